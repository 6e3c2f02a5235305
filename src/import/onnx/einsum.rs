//! Einsum equations: the output shape, and whether an equation is a (batched) matrix product.

use smallvec::smallvec;

use super::value::Dims;

/// One parsed operand or output term: its index letters and where an ellipsis stands.
#[derive(Debug, Clone, PartialEq)]
struct Term {
    letters: Vec<char>,
    /// Position (in `letters`) where `...` stands, if it does.
    ellipsis: Option<usize>,
}

/// A parsed equation such as `bhid,bhjd->bhij`.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Equation {
    inputs: Vec<Term>,
    output: Option<Term>,
}

fn parse_term(text: &str) -> Result<Term, String> {
    let mut letters = Vec::new();
    let mut ellipsis = None;
    let mut rest = text.trim();
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("...") {
            if ellipsis.is_some() {
                return Err(format!("term '{text}' has two ellipses"));
            }
            ellipsis = Some(letters.len());
            rest = after;
            continue;
        }
        let mut chars = rest.chars();
        let Some(letter) = chars.next() else { break };
        if !letter.is_ascii_alphabetic() {
            return Err(format!(
                "term '{text}' has the character '{letter}'; only letters and '...' are allowed"
            ));
        }
        letters.push(letter);
        rest = chars.as_str().trim_start();
    }
    Ok(Term { letters, ellipsis })
}

impl Equation {
    pub fn parse(equation: &str) -> Result<Equation, String> {
        let (left, right) = match equation.split_once("->") {
            Some((left, right)) => (left, Some(right)),
            None => (equation, None),
        };
        let inputs = left
            .split(',')
            .map(parse_term)
            .collect::<Result<Vec<_>, _>>()?;
        let output = right.map(parse_term).transpose()?;
        Ok(Equation { inputs, output })
    }

    /// The output dimensions for operands of dimensions `operands`.
    pub fn output_dims(&self, operands: &[&[u64]]) -> Result<Vec<u64>, String> {
        if operands.len() != self.inputs.len() {
            return Err(format!(
                "the equation has {} operands but the node has {} inputs",
                self.inputs.len(),
                operands.len()
            ));
        }
        let mut sizes: Vec<(char, u64)> = Vec::new();
        let mut broadcast = Dims::new();
        for (term, dims) in self.inputs.iter().zip(operands) {
            let named = term.letters.len();
            let covered = match term.ellipsis {
                Some(_) if dims.len() >= named => dims.len() - named,
                None if dims.len() == named => 0,
                _ => {
                    return Err(format!(
                        "operand of rank {} does not fit its term of {named} letters",
                        dims.len()
                    ));
                }
            };
            let at = term.ellipsis.unwrap_or(named);
            let ellipsis_dims = &dims[at..at + covered];
            broadcast = broadcast_dims(&broadcast, ellipsis_dims)?;
            for (position, &letter) in term.letters.iter().enumerate() {
                let dim = if position < at {
                    dims[position]
                } else {
                    dims[position + covered]
                };
                match sizes.iter().find(|(known, _)| *known == letter) {
                    Some(&(_, size)) if size != dim => {
                        return Err(format!(
                            "index '{letter}' has size {size} in one operand and {dim} in another"
                        ));
                    }
                    Some(_) => {}
                    None => sizes.push((letter, dim)),
                }
            }
        }
        let size_of = |letter: char| {
            sizes
                .iter()
                .find(|(known, _)| *known == letter)
                .map(|&(_, size)| size)
                .ok_or_else(|| format!("output index '{letter}' appears in no operand"))
        };
        match &self.output {
            Some(term) => {
                let mut dims = Vec::new();
                for (position, &letter) in term.letters.iter().enumerate() {
                    if term.ellipsis == Some(position) {
                        dims.extend_from_slice(&broadcast);
                    }
                    dims.push(size_of(letter)?);
                }
                if term.ellipsis == Some(term.letters.len()) {
                    dims.extend_from_slice(&broadcast);
                }
                Ok(dims)
            }
            None => {
                // Implicit output: the broadcast dimensions, then the letters used once, sorted.
                let mut once: Vec<char> = sizes
                    .iter()
                    .map(|&(letter, _)| letter)
                    .filter(|&letter| {
                        self.inputs
                            .iter()
                            .flat_map(|term| term.letters.iter())
                            .filter(|&&other| other == letter)
                            .count()
                            == 1
                    })
                    .collect();
                once.sort_unstable();
                let mut dims = broadcast.to_vec();
                for letter in once {
                    dims.push(size_of(letter)?);
                }
                Ok(dims)
            }
        }
    }

    /// For a two-operand equation that is a batched matrix product (every index is a batch
    /// index of both operands and the output, a row index of the first operand and the
    /// output, a column index of the second operand and the output, or a contracted index
    /// of both operands only), the product of the contracted dimensions. `None` for any
    /// other equation (traces, sums over one operand, ellipses, repeated indices).
    pub fn matmul_contraction(&self, operands: &[&[u64]]) -> Option<u64> {
        let ([a, b], Some(out)) = (self.inputs.as_slice(), self.output.as_ref()) else {
            return None;
        };
        if [a, b, out]
            .iter()
            .any(|term| term.ellipsis.is_some() || has_repeats(&term.letters))
        {
            return None;
        }
        let (dims_a, dims_b) = (operands.first()?, operands.get(1)?);
        if dims_a.len() != a.letters.len() || dims_b.len() != b.letters.len() {
            return None;
        }
        let mut contracted = 1u64;
        let mut any_contracted = false;
        for (position, letter) in a.letters.iter().enumerate() {
            let in_b = b.letters.contains(letter);
            let in_out = out.letters.contains(letter);
            match (in_b, in_out) {
                (true, false) => {
                    contracted = contracted.checked_mul(dims_a[position])?;
                    any_contracted = true;
                }
                (false, false) => return None,
                _ => {}
            }
        }
        let b_only_summed = b
            .letters
            .iter()
            .any(|letter| !a.letters.contains(letter) && !out.letters.contains(letter));
        let out_unknown = out
            .letters
            .iter()
            .any(|letter| !a.letters.contains(letter) && !b.letters.contains(letter));
        (any_contracted && !b_only_summed && !out_unknown).then_some(contracted)
    }
}

fn has_repeats(letters: &[char]) -> bool {
    letters
        .iter()
        .enumerate()
        .any(|(i, letter)| letters[i + 1..].contains(letter))
}

/// Numpy broadcasting of two dimension lists.
pub(super) fn broadcast_dims(a: &[u64], b: &[u64]) -> Result<Dims, String> {
    let rank = a.len().max(b.len());
    let mut out: Dims = smallvec![0u64; rank];
    for (axis, slot) in out.iter_mut().enumerate() {
        let pick = |dims: &[u64]| {
            (axis + dims.len())
                .checked_sub(rank)
                .map_or(1, |index| dims[index])
        };
        let (x, y) = (pick(a), pick(b));
        *slot = match (x, y) {
            (x, y) if x == y => x,
            (1, y) => y,
            (x, 1) => x,
            _ => {
                return Err(format!(
                    "shapes {a:?} and {b:?} do not broadcast (axis {axis}: {x} vs {y})"
                ));
            }
        };
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attention_equations_are_matrix_products() {
        let eq = Equation::parse("bgnid,bgnjd->bgnij").unwrap();
        let q: &[u64] = &[1, 64, 8, 49, 32];
        assert_eq!(eq.output_dims(&[q, q]).unwrap(), vec![1, 64, 8, 49, 49]);
        assert_eq!(eq.matmul_contraction(&[q, q]), Some(32));
        let eq = Equation::parse("ij,jk->ik").unwrap();
        assert_eq!(eq.matmul_contraction(&[&[2, 3], &[3, 4]]), Some(3));
    }

    #[test]
    fn other_equations_are_not() {
        let trace = Equation::parse("ii->").unwrap();
        assert_eq!(trace.matmul_contraction(&[&[3, 3]]), None);
        let outer = Equation::parse("i,j->ij").unwrap();
        assert_eq!(outer.matmul_contraction(&[&[2], &[3]]), None);
        let summed = Equation::parse("ij,jk->i").unwrap();
        assert_eq!(summed.matmul_contraction(&[&[2, 3], &[3, 4]]), None);
    }

    #[test]
    fn implicit_outputs_and_ellipses() {
        let eq = Equation::parse("ij,jk").unwrap();
        assert_eq!(eq.output_dims(&[&[2, 3], &[3, 4]]).unwrap(), vec![2, 4]);
        let eq = Equation::parse("...ij,...jk->...ik").unwrap();
        assert_eq!(
            eq.output_dims(&[&[5, 1, 2, 3], &[7, 3, 4]]).unwrap(),
            vec![5, 7, 2, 4]
        );
        let eq = Equation::parse("ij,jk->ik").unwrap();
        let error = eq.output_dims(&[&[2, 3], &[4, 5]]).unwrap_err();
        assert!(error.contains("index 'j' has size 3"), "{error}");
    }
}
