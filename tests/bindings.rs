//! Mechanical checks that the language bindings keep up with the C API in
//! `include/cgpredict.h`: a new C function without a wrapper fails here.
//!
//! - Julia (`bindings/julia/CGPredict`, which no machine of ours can run): every header
//!   function has a `ccall` whose return and argument types match the C types under a fixed
//!   C-to-Julia mapping; the `cgp_node_desc` struct and the two enums match field for field and
//!   value for value; every exported name is used by `test/runtests.jl`.
//! - Go (`bindings/go`): every header function is called as `C.name(`; every exported function
//!   and method is used by the package's tests (which `make test-bindings` runs).
//! - C++ (`bindings/cpp/cgpredict.hpp`): every header function is called by the wrapper (whose
//!   types the compiler checks when `make test-bindings` builds its tests).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

fn read(relative: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

fn read_dir_sources(relative: &str, keep: impl Fn(&str) -> bool) -> String {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|error| panic!("{}: {error}", dir.display()))
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| keep(name))
        .collect();
    names.sort();
    names
        .iter()
        .map(|name| read(&format!("{relative}/{name}")))
        .collect()
}

/// A C type as far as the mapping needs it: the base type (`uint32_t`, `struct cgp_graph`,
/// `enum cgp_status`) and the number of pointer levels; `const` does not matter to the ABI.
#[derive(Debug, Clone, PartialEq)]
struct CType {
    base: String,
    pointers: usize,
}

#[derive(Debug)]
struct CFunction {
    name: String,
    ret: CType,
    params: Vec<(CType, String)>,
}

/// Splits `const struct cgp_graph *const *graphs` into its type and its name.
fn c_declarator(text: &str) -> (CType, String) {
    let pointers = text.matches('*').count();
    let words: Vec<&str> = text
        .split(|c: char| c.is_whitespace() || c == '*')
        .filter(|word| !word.is_empty() && *word != "const")
        .collect();
    let (name, base) = words.split_last().expect("a declarator has a name");
    (
        CType {
            base: base.join(" "),
            pointers,
        },
        (*name).to_owned(),
    )
}

/// The function declarations of the header: one per line, at column 0, ending in `);`.
fn header_functions(header: &str) -> Vec<CFunction> {
    header
        .lines()
        .filter(|line| {
            line.starts_with(|c: char| c.is_ascii_alphabetic())
                && line.ends_with(");")
                && !line.starts_with("typedef")
        })
        .map(|line| {
            let open = line.find('(').expect("a declaration has a parameter list");
            let (ret, name) = c_declarator(&line[..open]);
            let params = &line[open + 1..line.len() - 2];
            let params = if params.trim() == "void" {
                Vec::new()
            } else {
                params.split(',').map(c_declarator).collect()
            };
            CFunction { name, ret, params }
        })
        .collect()
}

/// The fields of a `typedef struct NAME { ... } NAME;` in the header, comments skipped.
fn header_struct(header: &str, name: &str) -> Vec<(CType, String)> {
    let start = header
        .find(&format!("typedef struct {name} {{"))
        .unwrap_or_else(|| panic!("struct {name} is not in the header"));
    let body = &header[start..start + header[start..].find(&format!("}} {name};")).unwrap()];
    let mut in_comment = false;
    let mut fields = Vec::new();
    for line in body.lines().skip(1) {
        let line = line.trim();
        if in_comment || line.starts_with("/*") {
            in_comment = !line.contains("*/");
        } else if let Some(field) = line.strip_suffix(';') {
            fields.push(c_declarator(field));
        }
    }
    fields
}

/// The `NAME = VALUE` entries of a `typedef enum NAME { ... } NAME;` in the header.
fn header_enum(header: &str, name: &str) -> BTreeMap<String, i64> {
    let start = header
        .find(&format!("typedef enum {name} {{"))
        .unwrap_or_else(|| panic!("enum {name} is not in the header"));
    let body = &header[start..start + header[start..].find(&format!("}} {name};")).unwrap()];
    body.lines()
        .filter_map(|line| {
            let (key, value) = line.trim().trim_end_matches(',').split_once(" = ")?;
            Some((key.to_owned(), value.parse().ok()?))
        })
        .collect()
}

/// Splits the text from just after an opening bracket into its top-level comma-separated
/// parts, up to the matching closing bracket. Returns the parts and the text after it.
fn split_top_level(text: &str) -> (Vec<String>, &str) {
    let mut depth = 0usize;
    let mut parts = Vec::new();
    let mut current = String::new();
    for (i, c) in text.char_indices() {
        match c {
            '(' | '{' | '[' => depth += 1,
            ')' | '}' | ']' if depth == 0 => {
                if !current.trim().is_empty() {
                    parts.push(current.trim().to_owned());
                }
                return (parts, &text[i + 1..]);
            }
            ')' | '}' | ']' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(current.trim().to_owned());
                current.clear();
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    panic!("unbalanced brackets in: {}", &text[..text.len().min(200)]);
}

/// A `ccall((:name, lib), Ret, (Args...,), ...)` of the Julia source, types without spaces.
#[derive(Debug)]
struct JuliaCall {
    name: String,
    library: String,
    ret: String,
    args: Vec<String>,
}

fn julia_ccalls(source: &str) -> Vec<JuliaCall> {
    let squash = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
    source
        .match_indices("ccall(")
        .map(|(at, _)| {
            let (parts, _) = split_top_level(&source[at + "ccall(".len()..]);
            assert!(
                parts.len() >= 3,
                "a ccall needs a function, a return type and argument types: {parts:?}"
            );
            let target = parts[0]
                .strip_prefix('(')
                .and_then(|t| t.strip_suffix(')'))
                .unwrap_or_else(|| {
                    panic!(
                        "ccall target is not a (function, library) pair: {}",
                        parts[0]
                    )
                });
            let (name, library) = target.split_once(',').expect("(function, library)");
            let tuple = parts[2].strip_prefix('(').unwrap_or_else(|| {
                panic!("argument types of {name} are not a tuple: {}", parts[2])
            });
            let (args, _) = split_top_level(tuple);
            JuliaCall {
                name: name.trim().trim_start_matches(':').to_owned(),
                library: library.trim().to_owned(),
                ret: squash(&parts[1]),
                args: args
                    .iter()
                    .map(|a| squash(a))
                    .filter(|a| !a.is_empty())
                    .collect(),
            }
        })
        .collect()
}

/// The Julia spelling of a C base type.
fn julia_base(base: &str) -> String {
    match base {
        "void" => "Cvoid".into(),
        "bool" => "Bool".into(),
        "char" => "Cchar".into(),
        "uint8_t" => "UInt8".into(),
        "uint32_t" => "UInt32".into(),
        "uint64_t" => "UInt64".into(),
        "size_t" => "Csize_t".into(),
        "float" => "Cfloat".into(),
        "double" => "Cdouble".into(),
        // C enums are int-sized; the bindings convert to their @enum after the call.
        enumeration if enumeration.starts_with("enum ") => "Cint".into(),
        // Structs keep their C name in the Julia module.
        structure if structure.starts_with("struct ") => structure["struct ".len()..].into(),
        other => panic!("no Julia mapping for the C type {other:?}: extend julia_base"),
    }
}

/// The spellings of a C type as a value (return type, struct field, pointee): `Ptr{..}` per
/// pointer level, and `Cstring` for a pointer to char.
fn julia_values(ty: &CType) -> BTreeSet<String> {
    if ty.pointers == 0 {
        return BTreeSet::from([julia_base(&ty.base)]);
    }
    let pointee = CType {
        base: ty.base.clone(),
        pointers: ty.pointers - 1,
    };
    let mut spellings: BTreeSet<String> = julia_values(&pointee)
        .into_iter()
        .map(|inner| format!("Ptr{{{inner}}}"))
        .collect();
    if ty.base == "char" && ty.pointers == 1 {
        spellings.insert("Cstring".into());
    }
    spellings
}

/// The spellings of a C type as a ccall argument: a value, or `Ref{..}` for a pointer.
fn julia_arguments(ty: &CType) -> BTreeSet<String> {
    let mut spellings = julia_values(ty);
    if ty.pointers > 0 {
        let pointee = CType {
            base: ty.base.clone(),
            pointers: ty.pointers - 1,
        };
        spellings.extend(
            julia_values(&pointee)
                .into_iter()
                .map(|inner| format!("Ref{{{inner}}}")),
        );
    }
    spellings
}

fn header() -> String {
    read("include/cgpredict.h")
}

#[test]
fn the_header_parses_into_its_functions() {
    let functions = header_functions(&header());
    let names: BTreeSet<&str> = functions.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names.len(), functions.len(), "duplicate declarations");
    // Spot checks that the parser reads what the header says.
    let predict = functions.iter().find(|f| f.name == "cgp_predict").unwrap();
    assert_eq!(
        predict.ret,
        CType {
            base: "enum cgp_status".into(),
            pointers: 0
        }
    );
    assert_eq!(
        predict.params[1],
        (
            CType {
                base: "struct cgp_graph".into(),
                pointers: 2
            },
            "graphs".to_owned()
        )
    );
    let version = functions.iter().find(|f| f.name == "cgp_version").unwrap();
    assert!(version.params.is_empty());
    assert!(names.contains("cgp_spectral_distance") && names.contains("cgp_string_free"));
    assert!(functions.len() >= 30, "{} functions", functions.len());
}

#[test]
fn julia_ccalls_match_the_header() {
    let functions = header_functions(&header());
    let source = read("bindings/julia/CGPredict/src/CGPredict.jl");
    let calls = julia_ccalls(&source);
    let mut problems = Vec::new();
    for call in &calls {
        let Some(function) = functions.iter().find(|f| f.name == call.name) else {
            problems.push(format!(
                "ccall of {}, which the header does not declare",
                call.name
            ));
            continue;
        };
        if call.library != "libcgpredict" {
            problems.push(format!(
                "{}: library {}, not libcgpredict",
                call.name, call.library
            ));
        }
        let returns = julia_values(&function.ret);
        if !returns.contains(&call.ret) {
            problems.push(format!(
                "{}: returns {}, expected one of {returns:?}",
                call.name, call.ret
            ));
        }
        if call.args.len() != function.params.len() {
            problems.push(format!(
                "{}: {} argument types, the header has {}",
                call.name,
                call.args.len(),
                function.params.len()
            ));
            continue;
        }
        for (arg, (ty, name)) in call.args.iter().zip(&function.params) {
            let allowed = julia_arguments(ty);
            if !allowed.contains(arg) {
                problems.push(format!(
                    "{}: argument {name} is {arg}, expected one of {allowed:?}",
                    call.name
                ));
            }
        }
    }
    let called: BTreeSet<&str> = calls.iter().map(|c| c.name.as_str()).collect();
    for function in &functions {
        if !called.contains(function.name.as_str()) {
            problems.push(format!("{} has no Julia ccall", function.name));
        }
    }
    assert!(
        problems.is_empty(),
        "Julia bindings out of step with the header:\n{}",
        problems.join("\n")
    );
}

#[test]
fn julia_node_desc_and_enums_match_the_header() {
    let header = header();
    let source = read("bindings/julia/CGPredict/src/CGPredict.jl");

    let start = source
        .find("struct cgp_node_desc\n")
        .expect("Julia struct cgp_node_desc");
    let body = &source[start..start + source[start..].find("\nend").unwrap()];
    let julia_fields: Vec<(String, String)> = body
        .lines()
        .skip(1)
        .filter_map(|line| line.trim().split_once("::"))
        .map(|(name, ty)| (name.to_owned(), ty.to_owned()))
        .collect();
    let c_fields = header_struct(&header, "cgp_node_desc");
    assert_eq!(
        julia_fields.len(),
        c_fields.len(),
        "{julia_fields:?} vs {c_fields:?}"
    );
    for ((julia_name, julia_type), (c_type, c_name)) in julia_fields.iter().zip(&c_fields) {
        assert_eq!(julia_name, c_name, "field order");
        let allowed = julia_values(c_type);
        assert!(
            allowed.contains(julia_type),
            "{c_name}: {julia_type}, expected one of {allowed:?}"
        );
    }

    for (c_name, julia_name) in [("cgp_status", "Status"), ("cgp_device", "Device")] {
        let start = source
            .find(&format!("@enum {julia_name}::Cint begin"))
            .unwrap_or_else(|| panic!("@enum {julia_name}::Cint"));
        let body = &source[start..start + source[start..].find("\nend").unwrap()];
        let julia: BTreeMap<String, i64> = body
            .lines()
            .skip(1)
            .filter_map(|line| {
                let (key, value) = line.trim().split_once(" = ")?;
                Some((key.to_owned(), value.parse().ok()?))
            })
            .collect();
        assert_eq!(
            julia,
            header_enum(&header, c_name),
            "{julia_name} vs {c_name}"
        );
    }
}

#[test]
fn julia_tests_use_every_export() {
    let source = read("bindings/julia/CGPredict/src/CGPredict.jl");
    let tests = read("bindings/julia/CGPredict/test/runtests.jl");
    let exports: Vec<&str> = source
        .lines()
        .filter_map(|line| line.strip_prefix("export "))
        .flat_map(|names| names.split(','))
        .map(str::trim)
        .collect();
    assert!(exports.len() > 20, "{exports:?}");
    let unused: Vec<&&str> = exports
        .iter()
        .filter(|name| !tests.contains(**name))
        .collect();
    assert!(
        unused.is_empty(),
        "exports that runtests.jl never uses: {unused:?}"
    );
}

#[test]
fn go_calls_every_header_function() {
    let functions = header_functions(&header());
    let source = read_dir_sources("bindings/go", |name| {
        name.ends_with(".go") && !name.ends_with("_test.go")
    });
    let missing: Vec<&str> = functions
        .iter()
        .map(|f| f.name.as_str())
        .filter(|name| !source.contains(&format!("C.{name}(")))
        .collect();
    assert!(
        missing.is_empty(),
        "C functions the Go bindings never call: {missing:?}"
    );
}

#[test]
fn go_tests_use_every_exported_function() {
    let source = read_dir_sources("bindings/go", |name| {
        name.ends_with(".go") && !name.ends_with("_test.go")
    });
    let tests = read_dir_sources("bindings/go", |name| name.ends_with("_test.go"));
    // `func Name(` or `func (r *T) Name(`.
    let exported: Vec<&str> = source
        .lines()
        .filter_map(|line| line.strip_prefix("func "))
        .map(|rest| match rest.strip_prefix('(') {
            Some(receiver) => receiver.split_once(") ").map_or("", |(_, tail)| tail),
            None => rest,
        })
        .filter_map(|rest| rest.split_once('(').map(|(name, _)| name))
        .filter(|name| name.starts_with(|c: char| c.is_ascii_uppercase()))
        .collect();
    assert!(exported.len() > 25, "{exported:?}");
    let unused: Vec<&&str> = exported
        .iter()
        .filter(|name| {
            !tests.contains(&format!("{name}(")) && !tests.contains(&format!(".{name})"))
        })
        .collect();
    assert!(
        unused.is_empty(),
        "exported Go functions that no test calls: {unused:?}"
    );
}

#[test]
fn cpp_wrapper_calls_every_header_function() {
    let functions = header_functions(&header());
    let source = read("bindings/cpp/cgpredict.hpp");
    let missing: Vec<&str> = functions
        .iter()
        .map(|f| f.name.as_str())
        .filter(|name| !source.contains(&format!("{name}(")))
        .collect();
    assert!(
        missing.is_empty(),
        "C functions the C++ wrapper never calls: {missing:?}"
    );
}

#[test]
fn the_julia_type_mapping_refuses_mismatches() {
    // The checks above are only as good as the mapping: it must tell types apart.
    let graph_out = CType {
        base: "struct cgp_graph".into(),
        pointers: 2,
    };
    assert!(julia_arguments(&graph_out).contains("Ref{Ptr{cgp_graph}}"));
    assert!(!julia_arguments(&graph_out).contains("Ptr{cgp_graph}"));
    let size = CType {
        base: "size_t".into(),
        pointers: 0,
    };
    assert_eq!(
        julia_arguments(&size),
        BTreeSet::from(["Csize_t".to_owned()])
    );
    let text = CType {
        base: "char".into(),
        pointers: 1,
    };
    assert!(julia_values(&text).contains("Cstring"));
    assert!(
        !julia_values(&CType {
            base: "uint8_t".into(),
            pointers: 1
        })
        .contains("Cstring")
    );
    let (parsed, name) = c_declarator("const char *const *ops");
    assert_eq!(
        (parsed, name.as_str()),
        (
            CType {
                base: "char".into(),
                pointers: 2
            },
            "ops"
        )
    );
}
