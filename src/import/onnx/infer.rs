//! Shape inference for ONNX operators, with evaluation of small static tensors.
//!
//! Every rule follows the ONNX operator specification for the model's opset (inputs that
//! moved from attributes to inputs in later opsets are read from wherever that opset puts
//! them). Values are computed only for static tensors of at most [`VALUE_LIMIT`] elements
//! and only for the operators that shape arithmetic uses; an operator whose output *shape*
//! depends on a value that is not known is an error naming that input.

use std::rc::Rc;

use smallvec::{SmallVec, smallvec};

use super::einsum::{Equation, broadcast_dims};
use super::model::{Attributes, NodeText};
use super::value::{
    Data, Dims, Tensor, VALUE_LIMIT, broadcast_indices, dtype, element_count, strides,
    tensor_from_proto,
};

/// A node's output tensors: almost always one, so inline.
pub(super) type Outputs = SmallVec<[Tensor; 1]>;

type Outcome = Result<Option<Outputs>, String>;

/// What inference reads of a node besides its input tensors.
#[derive(Clone, Copy)]
pub(super) struct NodeRef<'a> {
    pub text: NodeText<'a>,
    pub attrs: Attributes<'a>,
    /// The tensor numbers of its inputs (`None` for an absent optional one), and the names
    /// of all tensors by number: input names for messages.
    pub input_ids: &'a [Option<u32>],
    pub names: &'a [&'a str],
    /// How many outputs it declares.
    pub outputs: usize,
}

/// Infers the outputs of `node` from its inputs (`None` where an optional input is absent).
/// `Ok(None)`: this operator has no rule here (the caller may fall back to declared shapes).
pub(super) fn infer(node: NodeRef, opset: i64, inputs: &[Option<&Tensor>]) -> Outcome {
    let ctx = Ctx {
        node,
        attrs: node.attrs,
        inputs,
        opset,
    };
    let op = node.text.op;
    if !node.text.in_default_domain() {
        return Ok(None);
    }
    let outputs = match op {
        "Identity"
        | "Relu"
        | "Sigmoid"
        | "Tanh"
        | "HardSwish"
        | "HardSigmoid"
        | "Erf"
        | "Exp"
        | "Log"
        | "Sqrt"
        | "Neg"
        | "Abs"
        | "Floor"
        | "Ceil"
        | "Round"
        | "Not"
        | "Softplus"
        | "Softsign"
        | "LeakyRelu"
        | "Elu"
        | "Selu"
        | "Celu"
        | "Gelu"
        | "Mish"
        | "Sign"
        | "Reciprocal"
        | "Sin"
        | "Cos"
        | "Tan"
        | "Asin"
        | "Acos"
        | "Atan"
        | "Sinh"
        | "Cosh"
        | "Asinh"
        | "Acosh"
        | "Atanh"
        | "Softmax"
        | "LogSoftmax"
        | "Hardmax"
        | "InstanceNormalization"
        | "LpNormalization"
        | "LRN"
        | "MeanVarianceNormalization"
        | "Shrink"
        | "ThresholdedRelu"
        | "CumSum"
        | "Trilu"
        | "BitwiseNot"
        | "GroupNormalization"
        | "PRelu" => unary(&ctx, op)?,
        "Dropout" => {
            let x = ctx.input(0)?;
            smallvec![x.clone(), Tensor::new(dtype::BOOL, x.dims.clone())]
        }
        "IsNaN" | "IsInf" => smallvec![Tensor::new(dtype::BOOL, ctx.input(0)?.dims.clone())],
        "Cast" => {
            let to = ctx.attrs.int("to").ok_or("attribute 'to' is missing")? as i32;
            cast(ctx.input(0)?, to)
        }
        "CastLike" => cast(ctx.input(0)?, ctx.input(1)?.dtype),
        "Clip" => clip(&ctx)?,
        "Add" | "Sub" | "Mul" | "Div" | "Pow" | "Mod" | "Equal" | "Less" | "Greater"
        | "LessOrEqual" | "GreaterOrEqual" | "And" | "Or" | "Xor" | "BitShift" | "BitwiseAnd"
        | "BitwiseOr" | "BitwiseXor" | "Max" | "Min" | "Sum" | "Mean" => elementwise(&ctx, op)?,
        "Where" => where_(&ctx)?,
        "BatchNormalization" => batch_norm(&ctx)?,
        "LayerNormalization" => layer_norm(&ctx)?,
        "Conv" => conv(&ctx)?,
        "ConvTranspose" => conv_transpose(&ctx)?,
        "LSTM" => recurrent(&ctx, 4)?,
        "GRU" => recurrent(&ctx, 3)?,
        "RNN" => recurrent(&ctx, 1)?,
        "MaxPool" | "AveragePool" | "LpPool" => pool(&ctx, op)?,
        "GlobalAveragePool" | "GlobalMaxPool" | "GlobalLpPool" => {
            let x = ctx.input(0)?;
            if x.dims.len() < 3 {
                return Err(format!(
                    "input of rank {} has no spatial axes",
                    x.dims.len()
                ));
            }
            let mut dims = x.dims.clone();
            dims[2..].iter_mut().for_each(|d| *d = 1);
            smallvec![Tensor::new(x.dtype, dims)]
        }
        "Gemm" => gemm(&ctx)?,
        "MatMul" => smallvec![matmul(ctx.input(0)?, ctx.input(1)?)?],
        "Einsum" => {
            let equation = ctx
                .attrs
                .string("equation")
                .ok_or("attribute 'equation' is missing")?;
            let mut operands = Vec::new();
            for index in 0..inputs.len() {
                operands.push(ctx.input(index)?.dims.as_slice());
            }
            let dims = Equation::parse(&equation)
                .and_then(|eq| eq.output_dims(&operands))
                .map_err(|e| format!("equation '{equation}': {e}"))?;
            smallvec![Tensor::new(ctx.input(0)?.dtype, dims.into())]
        }
        "Flatten" => flatten(&ctx)?,
        "Reshape" => reshape(&ctx)?,
        "Squeeze" => squeeze(&ctx)?,
        "Unsqueeze" => unsqueeze(&ctx)?,
        "Transpose" => transpose(&ctx)?,
        "Expand" => expand(&ctx)?,
        "Tile" => tile(&ctx)?,
        "Concat" => concat(&ctx)?,
        "Split" => split(&ctx)?,
        "Slice" => slice(&ctx)?,
        "Gather" => gather(&ctx)?,
        "GatherElements" => smallvec![Tensor::new(ctx.input(0)?.dtype, ctx.input(1)?.dims.clone())],
        "GatherND" => gather_nd(&ctx)?,
        "ScatterND" | "ScatterElements" | "Scatter" => {
            smallvec![Tensor::new(ctx.input(0)?.dtype, ctx.input(0)?.dims.clone())]
        }
        "Shape" => shape(&ctx)?,
        "Size" => {
            let count = ctx.input(0)?.elements().ok_or("element count overflows")?;
            let count = i64::try_from(count).map_err(|_| "element count overflows")?;
            smallvec![Tensor::new(dtype::INT64, Dims::new()).with_data(Data::Int(vec![count]))]
        }
        "Constant" => constant(&ctx)?,
        "ConstantOfShape" => constant_of_shape(&ctx)?,
        "Range" => range(&ctx)?,
        "EyeLike" => {
            let x = ctx.input(0)?;
            let code = ctx.attrs.int("dtype").map_or(x.dtype, |d| d as i32);
            smallvec![Tensor::new(code, x.dims.clone())]
        }
        "RandomNormalLike" | "RandomUniformLike" | "Bernoulli" => {
            let x = ctx.input(0)?;
            let code = ctx.attrs.int("dtype").map_or(x.dtype, |d| d as i32);
            smallvec![Tensor::new(code, x.dims.clone())]
        }
        "RandomNormal" | "RandomUniform" => {
            let dims = ctx
                .attrs
                .ints("shape")
                .ok_or("attribute 'shape' is missing")?;
            let code = ctx.attrs.int("dtype").map_or(dtype::FLOAT, |d| d as i32);
            smallvec![Tensor::new(code, to_dims(dims, "attribute 'shape'")?)]
        }
        "ReduceMean" | "ReduceSum" | "ReduceMax" | "ReduceMin" | "ReduceProd" | "ReduceL1"
        | "ReduceL2" | "ReduceLogSum" | "ReduceLogSumExp" | "ReduceSumSquare" => reduce(&ctx, op)?,
        "ArgMax" | "ArgMin" => {
            let x = ctx.input(0)?;
            let axis = axis_index(ctx.attrs.int_or("axis", 0), x.dims.len())?;
            let keep = ctx.attrs.int_or("keepdims", 1) != 0;
            smallvec![Tensor::new(
                dtype::INT64,
                reduce_dims(&x.dims, &[axis], keep),
            )]
        }
        "Pad" => pad(&ctx)?,
        "Resize" | "Upsample" => resize(&ctx, op)?,
        "TopK" => topk(&ctx)?,
        "NonZero" => {
            let x = ctx.input(0)?;
            let data = x
                .data
                .as_deref()
                .ok_or("its output size depends on the values of its input, which are not known")?;
            let count = (0..data.len()).filter(|&i| data.get_f64(i) != 0.0).count() as u64;
            smallvec![Tensor::new(
                dtype::INT64,
                smallvec![x.dims.len() as u64, count]
            )]
        }
        "DepthToSpace" | "SpaceToDepth" => depth_space(&ctx, op)?,
        "OneHot" => {
            let indices = ctx.input(0)?;
            let depth = ctx.scalar_int(1, "depth")?;
            let depth = u64::try_from(depth).map_err(|_| format!("depth is {depth}"))?;
            let rank = indices.dims.len() + 1;
            let axis = axis_index(ctx.attrs.int_or("axis", -1), rank)?;
            let mut dims = indices.dims.clone();
            dims.insert(axis, depth);
            smallvec![Tensor::new(ctx.input(2)?.dtype, dims)]
        }
        _ => return Ok(None),
    };
    Ok(Some(outputs))
}

struct Ctx<'a> {
    node: NodeRef<'a>,
    attrs: Attributes<'a>,
    inputs: &'a [Option<&'a Tensor>],
    opset: i64,
}

impl<'a> Ctx<'a> {
    fn input(&self, index: usize) -> Result<&'a Tensor, String> {
        self.opt(index)
            .ok_or_else(|| format!("required input {index} is missing"))
    }

    /// An optional input; an empty-named one or one with no elements counts as absent
    /// where the spec allows "empty" (Resize's scales, for instance) — callers decide.
    fn opt(&self, index: usize) -> Option<&'a Tensor> {
        self.inputs.get(index).copied().flatten()
    }

    fn name(&self, index: usize) -> &str {
        let id = self.node.input_ids.get(index).copied().flatten();
        id.map_or("", |id| self.node.names[id as usize])
    }

    /// The integer values of input `index`, which decide the output shape: `None` if the
    /// input is absent, an error if it is present but its values are not known.
    fn const_ints(&self, index: usize, what: &str) -> Result<Option<Vec<i64>>, String> {
        let Some(tensor) = self.opt(index) else {
            return Ok(None);
        };
        match tensor.data.as_deref() {
            Some(Data::Int(values)) => Ok(Some(values.clone())),
            Some(Data::Float(_)) => Err(format!(
                "input {index} ('{}', the {what}) holds floating-point values; integers are required",
                self.name(index)
            )),
            None => Err(format!(
                "input {index} ('{}', the {what}) decides the output shape, but its values are \
                 not known when importing (it is computed from the model's input data or \
                 stored outside the file)",
                self.name(index)
            )),
        }
    }

    /// Integer values from input `index` if the opset passes them as an input
    /// (`opset >= since`), else from attribute `attr`.
    fn ints_input_or_attr(
        &self,
        index: usize,
        attr: &str,
        since: i64,
    ) -> Result<Option<Vec<i64>>, String> {
        if self.opset >= since {
            self.const_ints(index, attr)
        } else {
            Ok(self.attrs.ints(attr).map(<[i64]>::to_vec))
        }
    }

    fn scalar_int(&self, index: usize, what: &str) -> Result<i64, String> {
        match self.const_ints(index, what)?.as_deref() {
            Some([value]) => Ok(*value),
            Some(values) => Err(format!(
                "input {index} (the {what}) must hold one value, not {}",
                values.len()
            )),
            None => Err(format!("input {index} (the {what}) is missing")),
        }
    }

    /// Every present input has known values.
    fn all_known(&self) -> bool {
        self.inputs
            .iter()
            .flatten()
            .all(|tensor| tensor.data.is_some())
    }
}

/// `axis` (possibly negative) as an index into `rank` axes.
pub(super) fn axis_index(axis: i64, rank: usize) -> Result<usize, String> {
    let rank_i = rank as i64;
    let resolved = if axis < 0 { axis + rank_i } else { axis };
    if (0..rank_i).contains(&resolved) {
        Ok(resolved as usize)
    } else {
        Err(format!("axis {axis} is out of range for rank {rank}"))
    }
}

fn to_dims(values: &[i64], what: &str) -> Result<Dims, String> {
    values
        .iter()
        .map(|&v| u64::try_from(v).map_err(|_| format!("{what} has the negative size {v}")))
        .collect()
}

fn small(dims: &[u64]) -> bool {
    element_count(dims).is_some_and(|count| count <= VALUE_LIMIT)
}

fn checked_product(dims: &[u64]) -> Result<u64, String> {
    element_count(dims).ok_or_else(|| format!("the element count of {dims:?} overflows"))
}

fn unary(ctx: &Ctx, op: &str) -> Result<Outputs, String> {
    let x = ctx.input(0)?;
    let mut out = Tensor::new(x.dtype, x.dims.clone());
    if let Some(data) = x.data.as_deref() {
        let computed = match (op, data) {
            ("Identity", _) => Some(data.clone()),
            ("Neg", Data::Int(v)) => Some(Data::Int(v.iter().map(|x| x.wrapping_neg()).collect())),
            ("Abs", Data::Int(v)) => Some(Data::Int(v.iter().map(|x| x.wrapping_abs()).collect())),
            ("Relu", Data::Int(v)) => Some(Data::Int(v.iter().map(|&x| x.max(0)).collect())),
            ("Sign", Data::Int(v)) => Some(Data::Int(v.iter().map(|x| x.signum()).collect())),
            ("Not", Data::Int(v)) => {
                Some(Data::Int(v.iter().map(|&x| i64::from(x == 0)).collect()))
            }
            (_, Data::Int(_)) => None,
            (_, Data::Float(v)) => {
                let f: Option<fn(f64) -> f64> = match op {
                    "Neg" => Some(|x| -x),
                    "Abs" => Some(f64::abs),
                    "Floor" => Some(f64::floor),
                    "Ceil" => Some(f64::ceil),
                    "Round" => Some(f64::round_ties_even),
                    "Sqrt" => Some(f64::sqrt),
                    "Exp" => Some(f64::exp),
                    "Log" => Some(f64::ln),
                    "Reciprocal" => Some(|x| 1.0 / x),
                    "Relu" => Some(|x| x.max(0.0)),
                    "Sign" => Some(|x| if x == 0.0 { 0.0 } else { x.signum() }),
                    _ => None,
                };
                f.map(|f| Data::Float(v.iter().map(|&x| f(x)).collect()).cast(x.dtype))
            }
        };
        out.data = computed.map(Rc::new);
    }
    Ok(smallvec![out])
}

/// Clip keeps its input's shape; on known values it is evaluated, since TensorFlow-style
/// "same" padding computes its pads as `max(0, ...)` written as a Clip.
fn clip(ctx: &Ctx) -> Result<Outputs, String> {
    let x = ctx.input(0)?;
    let mut out = Tensor::new(x.dtype, x.dims.clone());
    // A bound: `Some(None)` when absent, `None` when present with unknown values. Opset 11
    // moved the bounds from attributes to inputs.
    let bound = |index: usize, attr: &str| -> Option<Option<f64>> {
        if ctx.opset < 11 {
            return Some(ctx.attrs.float(attr).map(f64::from));
        }
        match ctx.opt(index) {
            None => Some(None),
            Some(tensor) => match tensor.data.as_deref() {
                Some(data) if data.len() == 1 => Some(Some(data.get_f64(0))),
                _ => None,
            },
        }
    };
    if let (Some(data), Some(low), Some(high)) =
        (x.data.as_deref(), bound(1, "min"), bound(2, "max"))
    {
        // As ONNX defines it: max first, then min, so a lower bound above the upper one
        // gives the upper one.
        let clipped = match data {
            Data::Int(values) => Data::Int(
                values
                    .iter()
                    .map(|&v| {
                        let v = low.map_or(v, |low| v.max(low as i64));
                        high.map_or(v, |high| v.min(high as i64))
                    })
                    .collect(),
            ),
            Data::Float(values) => Data::Float(
                values
                    .iter()
                    .map(|&v| {
                        let v = low.map_or(v, |low| v.max(low));
                        high.map_or(v, |high| v.min(high))
                    })
                    .collect(),
            ),
        };
        out.data = Some(Rc::new(clipped));
    }
    Ok(smallvec![out])
}

fn cast(x: &Tensor, to: i32) -> Outputs {
    let mut out = Tensor::new(to, x.dims.clone());
    out.data = x.data.as_deref().map(|data| Rc::new(data.cast(to)));
    smallvec![out]
}

fn elementwise(ctx: &Ctx, op: &str) -> Result<Outputs, String> {
    let count = ctx.inputs.len();
    if count == 0 {
        return Err("it has no inputs".into());
    }
    let mut dims = ctx.input(0)?.dims.clone();
    for index in 1..count {
        dims = broadcast_dims(&dims, &ctx.input(index)?.dims)?;
    }
    let boolean = matches!(
        op,
        "Equal" | "Less" | "Greater" | "LessOrEqual" | "GreaterOrEqual" | "And" | "Or" | "Xor"
    );
    let code = if boolean {
        dtype::BOOL
    } else {
        ctx.input(0)?.dtype
    };
    let mut out = Tensor::new(code, dims);
    if ctx.all_known() && small(&out.dims) {
        let fmod = ctx.attrs.int_or("fmod", 0) != 0;
        let mut acc: Option<(Data, Dims)> = None;
        for index in 0..count {
            let x = ctx.input(index)?;
            let data = x.data.as_deref().cloned().unwrap_or(Data::Int(Vec::new()));
            acc = match acc {
                None => Some((data, x.dims.clone())),
                Some((left, left_dims)) => {
                    let result_dims = broadcast_dims(&left_dims, &x.dims)?;
                    binary_values(op, &left, &left_dims, &data, &x.dims, &result_dims, fmod)
                        .map(|data| (data, result_dims))
                }
            };
            if acc.is_none() {
                break;
            }
        }
        if let Some((mut data, _)) = acc {
            if op == "Mean"
                && let Data::Float(values) = &mut data
            {
                values.iter_mut().for_each(|v| *v /= count as f64);
            }
            out.data = Some(Rc::new(data.cast(code)));
        }
    }
    Ok(smallvec![out])
}

/// `a op b` with broadcasting; `None` where the result is undefined (integer division by
/// zero) or the operator has no value rule.
fn binary_values(
    op: &str,
    a: &Data,
    a_dims: &[u64],
    b: &Data,
    b_dims: &[u64],
    out: &[u64],
    fmod: bool,
) -> Option<Data> {
    let ia = broadcast_indices(a_dims, out);
    let ib = broadcast_indices(b_dims, out);
    match (a, b) {
        (Data::Int(x), Data::Int(y)) => {
            let mut values = Vec::with_capacity(ia.len());
            for (&i, &j) in ia.iter().zip(&ib) {
                let (p, q) = (x[i], y[j]);
                values.push(match op {
                    "Add" | "Sum" => p.wrapping_add(q),
                    "Sub" => p.wrapping_sub(q),
                    "Mul" => p.wrapping_mul(q),
                    "Div" => p.checked_div(q)?,
                    "Mod" => {
                        let r = p.checked_rem(q)?;
                        if !fmod && r != 0 && ((r < 0) != (q < 0)) {
                            r + q
                        } else {
                            r
                        }
                    }
                    "Pow" => p.checked_pow(u32::try_from(q).ok()?)?,
                    "Max" => p.max(q),
                    "Min" => p.min(q),
                    "Equal" => i64::from(p == q),
                    "Less" => i64::from(p < q),
                    "Greater" => i64::from(p > q),
                    "LessOrEqual" => i64::from(p <= q),
                    "GreaterOrEqual" => i64::from(p >= q),
                    "And" => i64::from(p != 0 && q != 0),
                    "Or" => i64::from(p != 0 || q != 0),
                    "Xor" => i64::from((p != 0) != (q != 0)),
                    _ => return None,
                });
            }
            Some(Data::Int(values))
        }
        _ => {
            let mut values = Vec::with_capacity(ia.len());
            for (&i, &j) in ia.iter().zip(&ib) {
                let (p, q) = (a.get_f64(i), b.get_f64(j));
                values.push(match op {
                    "Add" | "Sum" | "Mean" => p + q,
                    "Sub" => p - q,
                    "Mul" => p * q,
                    "Div" => p / q,
                    "Mod" => p % q,
                    "Pow" => p.powf(q),
                    "Max" => p.max(q),
                    "Min" => p.min(q),
                    "Equal" => f64::from(u8::from(p == q)),
                    "Less" => f64::from(u8::from(p < q)),
                    "Greater" => f64::from(u8::from(p > q)),
                    "LessOrEqual" => f64::from(u8::from(p <= q)),
                    "GreaterOrEqual" => f64::from(u8::from(p >= q)),
                    _ => return None,
                });
            }
            Some(Data::Float(values))
        }
    }
}

fn where_(ctx: &Ctx) -> Result<Outputs, String> {
    let (c, x, y) = (ctx.input(0)?, ctx.input(1)?, ctx.input(2)?);
    let dims = broadcast_dims(&broadcast_dims(&c.dims, &x.dims)?, &y.dims)?;
    let mut out = Tensor::new(x.dtype, dims);
    if let (Some(cd), Some(xd), Some(yd)) =
        (c.data.as_deref(), x.data.as_deref(), y.data.as_deref())
        && small(&out.dims)
    {
        let (ic, ix, iy) = (
            broadcast_indices(&c.dims, &out.dims),
            broadcast_indices(&x.dims, &out.dims),
            broadcast_indices(&y.dims, &out.dims),
        );
        let data = match (xd, yd) {
            (Data::Int(xv), Data::Int(yv)) => Data::Int(
                (0..ic.len())
                    .map(|k| {
                        if cd.get_f64(ic[k]) != 0.0 {
                            xv[ix[k]]
                        } else {
                            yv[iy[k]]
                        }
                    })
                    .collect(),
            ),
            _ => Data::Float(
                (0..ic.len())
                    .map(|k| {
                        if cd.get_f64(ic[k]) != 0.0 {
                            xd.get_f64(ix[k])
                        } else {
                            yd.get_f64(iy[k])
                        }
                    })
                    .collect(),
            ),
        };
        out.data = Some(Rc::new(data));
    }
    Ok(smallvec![out])
}

fn batch_norm(ctx: &Ctx) -> Result<Outputs, String> {
    let x = ctx.input(0)?;
    if x.dims.len() < 2 {
        return Err(format!(
            "input of rank {} has no channel axis",
            x.dims.len()
        ));
    }
    let channels = x.dims[1];
    let mut outputs: Outputs = smallvec![x.clone()];
    outputs[0].data = None;
    for _ in 1..ctx.node.outputs {
        outputs.push(Tensor::new(x.dtype, smallvec![channels]));
    }
    Ok(outputs)
}

fn layer_norm(ctx: &Ctx) -> Result<Outputs, String> {
    let x = ctx.input(0)?;
    let axis = axis_index(ctx.attrs.int_or("axis", -1), x.dims.len())?;
    let mut stats = x.dims.clone();
    stats[axis..].iter_mut().for_each(|d| *d = 1);
    let stash = ctx
        .attrs
        .int("stash_type")
        .map_or(dtype::FLOAT, |t| t as i32);
    let mut outputs = smallvec![Tensor::new(x.dtype, x.dims.clone())];
    for _ in 1..ctx.node.outputs {
        outputs.push(Tensor::new(stash, stats.clone()));
    }
    Ok(outputs)
}

/// A recurrent layer (LSTM, GRU, RNN) of `gates` gates: the sequence of hidden states `Y`,
/// then the last hidden state `Y_h` (and the LSTM's last cell state `Y_c`).
fn recurrent(ctx: &Ctx, gates: u64) -> Result<Outputs, String> {
    let x = ctx.input(0)?;
    let w = ctx.input(1)?;
    if x.dims.len() != 3 || w.dims.len() != 3 {
        return Err(format!(
            "input {:?} and weight {:?} must both be of rank 3",
            x.dims, w.dims
        ));
    }
    let hidden = match ctx.attrs.int("hidden_size") {
        Some(size) => u64::try_from(size)
            .ok()
            .filter(|&size| size > 0)
            .ok_or_else(|| format!("attribute 'hidden_size' is {size}; it must be at least 1"))?,
        None if w.dims[1] % gates == 0 && w.dims[1] > 0 => w.dims[1] / gates,
        None => {
            return Err(format!(
                "no 'hidden_size', and the weight {:?} has no multiple of {gates} rows",
                w.dims
            ));
        }
    };
    let directions = match ctx.attrs.string("direction").as_deref() {
        None | Some("forward" | "reverse") => 1,
        Some("bidirectional") => 2,
        Some(other) => return Err(format!("attribute 'direction' is '{other}'")),
    };
    if w.dims[0] != directions {
        return Err(format!(
            "the weight {:?} does not have {directions} direction(s)",
            w.dims
        ));
    }
    // Layout 0 is [sequence, batch, features]; layout 1 is [batch, sequence, features].
    let batch_first = match ctx.attrs.int_or("layout", 0) {
        0 => false,
        1 => true,
        other => return Err(format!("attribute 'layout' is {other}; 0 or 1 expected")),
    };
    let (states, last): (Dims, Dims) = if batch_first {
        let (batch, sequence) = (x.dims[0], x.dims[1]);
        (
            smallvec![batch, sequence, directions, hidden],
            smallvec![batch, directions, hidden],
        )
    } else {
        let (sequence, batch) = (x.dims[0], x.dims[1]);
        (
            smallvec![sequence, directions, batch, hidden],
            smallvec![directions, batch, hidden],
        )
    };
    let mut outputs: Outputs = smallvec![Tensor::new(x.dtype, states)];
    for _ in 1..ctx.node.outputs {
        outputs.push(Tensor::new(x.dtype, last.clone()));
    }
    Ok(outputs)
}

/// Per-axis window geometry shared by convolution and pooling.
struct Window {
    kernel: Dims,
    strides: Dims,
    dilations: Dims,
    pads: SmallVec<[i64; 6]>,
    auto_pad: String,
}

impl Window {
    fn read(ctx: &Ctx, kernel: Dims) -> Result<Window, String> {
        let n = kernel.len();
        let list = |name: &str, default: i64, len: usize| -> Result<SmallVec<[i64; 6]>, String> {
            match ctx.attrs.ints(name) {
                Some(values) if values.len() == len => Ok(SmallVec::from_slice(values)),
                Some([]) => Ok(smallvec![default; len]),
                Some(values) => Err(format!(
                    "attribute '{name}' has {} values; {len} expected",
                    values.len()
                )),
                None => Ok(smallvec![default; len]),
            }
        };
        let positive = |name: &str| -> Result<Dims, String> {
            list(name, 1, n)?
                .into_iter()
                .map(|v| {
                    u64::try_from(v).ok().filter(|&v| v > 0).ok_or_else(|| {
                        format!("attribute '{name}' has the value {v}; it must be at least 1")
                    })
                })
                .collect()
        };
        let strides = positive("strides")?;
        let dilations = positive("dilations")?;
        let pads = list("pads", 0, 2 * n)?;
        if let Some(pad) = pads.iter().find(|&&p| p < 0) {
            return Err(format!("attribute 'pads' has the negative value {pad}"));
        }
        let auto_pad = ctx.attrs.string("auto_pad").unwrap_or_default();
        Ok(Window {
            kernel,
            strides,
            dilations,
            pads,
            auto_pad,
        })
    }

    /// Output sizes of the spatial axes `spatial`.
    fn output(&self, spatial: &[u64], ceil_mode: bool) -> Result<Dims, String> {
        let n = self.kernel.len();
        let mut out = Dims::with_capacity(n);
        for (axis, &input) in spatial.iter().enumerate().take(n) {
            let stride = self.strides[axis];
            let effective = (self.kernel[axis] - 1)
                .checked_mul(self.dilations[axis])
                .and_then(|v| v.checked_add(1))
                .ok_or("kernel size overflows")?;
            let size = match self.auto_pad.as_str() {
                "SAME_UPPER" | "SAME_LOWER" => input.div_ceil(stride),
                "VALID" | "NOTSET" | "" => {
                    let (begin, end) = if self.auto_pad == "VALID" {
                        (0, 0)
                    } else {
                        (self.pads[axis] as u64, self.pads[axis + n] as u64)
                    };
                    let padded = input + begin + end;
                    if padded < effective {
                        return Err(format!(
                            "spatial axis {axis}: the padded input size {padded} is smaller than \
                             the (dilated) kernel size {effective}"
                        ));
                    }
                    let span = padded - effective;
                    1 + if ceil_mode {
                        span.div_ceil(stride)
                    } else {
                        span / stride
                    }
                }
                other => return Err(format!("auto_pad '{other}' is not a valid value")),
            };
            out.push(size);
        }
        Ok(out)
    }
}

fn conv(ctx: &Ctx) -> Result<Outputs, String> {
    let x = ctx.input(0)?;
    let w = ctx.input(1)?;
    if x.dims.len() < 3 || w.dims.len() != x.dims.len() {
        return Err(format!(
            "input of rank {} and weight of rank {} do not fit a convolution",
            x.dims.len(),
            w.dims.len()
        ));
    }
    let group = ctx.attrs.int_or("group", 1);
    let group = u64::try_from(group)
        .ok()
        .filter(|&g| g > 0)
        .ok_or_else(|| format!("attribute 'group' is {group}; it must be at least 1"))?;
    if w.dims[1].checked_mul(group) != Some(x.dims[1]) {
        return Err(format!(
            "the input has {} channels but the weight {:?} with group = {group} expects {}",
            x.dims[1],
            w.dims,
            w.dims[1].saturating_mul(group)
        ));
    }
    let kernel = match ctx.attrs.ints("kernel_shape") {
        Some(k) => to_dims(k, "attribute 'kernel_shape'")?,
        None => Dims::from_slice(&w.dims[2..]),
    };
    if kernel.len() != x.dims.len() - 2 || kernel.contains(&0) {
        return Err(format!(
            "kernel shape {kernel:?} does not fit input {:?}",
            x.dims
        ));
    }
    let window = Window::read(ctx, kernel)?;
    let mut dims: Dims = smallvec![x.dims[0], w.dims[0]];
    dims.extend(window.output(&x.dims[2..], false)?);
    Ok(smallvec![Tensor::new(x.dtype, dims)])
}

fn conv_transpose(ctx: &Ctx) -> Result<Outputs, String> {
    let x = ctx.input(0)?;
    let w = ctx.input(1)?;
    if x.dims.len() < 3 || w.dims.len() != x.dims.len() {
        return Err(format!(
            "input of rank {} and weight of rank {} do not fit a transposed convolution",
            x.dims.len(),
            w.dims.len()
        ));
    }
    let group = u64::try_from(ctx.attrs.int_or("group", 1))
        .unwrap_or(1)
        .max(1);
    let n = x.dims.len() - 2;
    let kernel = match ctx.attrs.ints("kernel_shape") {
        Some(k) => to_dims(k, "attribute 'kernel_shape'")?,
        None => Dims::from_slice(&w.dims[2..]),
    };
    let window = Window::read(ctx, kernel)?;
    let mut dims = vec![x.dims[0], w.dims[1].saturating_mul(group)];
    if let Some(shape) = ctx.attrs.ints("output_shape") {
        let shape = to_dims(shape, "attribute 'output_shape'")?;
        dims.extend(shape.iter().rev().take(n).rev());
        return Ok(smallvec![Tensor::new(x.dtype, dims.into())]);
    }
    let output_padding = ctx
        .attrs
        .ints("output_padding")
        .map(<[i64]>::to_vec)
        .unwrap_or_else(|| vec![0; n]);
    for axis in 0..n {
        let size = window.strides[axis] as i128 * (x.dims[axis + 2] as i128 - 1)
            + *output_padding.get(axis).unwrap_or(&0) as i128
            + ((window.kernel[axis] as i128 - 1) * window.dilations[axis] as i128 + 1)
            - match window.auto_pad.as_str() {
                "SAME_UPPER" | "SAME_LOWER" | "VALID" => 0,
                _ => window.pads[axis] as i128 + window.pads[axis + n] as i128,
            };
        let size = if matches!(window.auto_pad.as_str(), "SAME_UPPER" | "SAME_LOWER") {
            x.dims[axis + 2] as i128 * window.strides[axis] as i128
        } else {
            size
        };
        dims.push(
            u64::try_from(size).map_err(|_| format!("spatial axis {axis}: output size {size}"))?,
        );
    }
    Ok(smallvec![Tensor::new(x.dtype, dims.into())])
}

fn pool(ctx: &Ctx, op: &str) -> Result<Outputs, String> {
    let x = ctx.input(0)?;
    if x.dims.len() < 3 {
        return Err(format!(
            "input of rank {} has no spatial axes",
            x.dims.len()
        ));
    }
    let kernel = ctx
        .attrs
        .ints("kernel_shape")
        .ok_or("attribute 'kernel_shape' is missing")?;
    let kernel = to_dims(kernel, "attribute 'kernel_shape'")?;
    if kernel.len() != x.dims.len() - 2 || kernel.contains(&0) {
        return Err(format!(
            "kernel shape {kernel:?} does not fit input {:?}",
            x.dims
        ));
    }
    let window = Window::read(ctx, kernel)?;
    let ceil_mode = ctx.attrs.int_or("ceil_mode", 0) != 0;
    let mut dims = Dims::from_slice(&x.dims[..2]);
    dims.extend(window.output(&x.dims[2..], ceil_mode)?);
    let mut outputs = smallvec![Tensor::new(x.dtype, dims.clone())];
    if op == "MaxPool" && ctx.node.outputs > 1 {
        outputs.push(Tensor::new(dtype::INT64, dims));
    }
    Ok(outputs)
}

fn gemm(ctx: &Ctx) -> Result<Outputs, String> {
    let (a, b) = (ctx.input(0)?, ctx.input(1)?);
    if a.dims.len() != 2 || b.dims.len() != 2 {
        return Err(format!(
            "operands must be matrices, not of shapes {:?} and {:?}",
            a.dims, b.dims
        ));
    }
    let (m, k) = if ctx.attrs.int_or("transA", 0) != 0 {
        (a.dims[1], a.dims[0])
    } else {
        (a.dims[0], a.dims[1])
    };
    let (k2, n) = if ctx.attrs.int_or("transB", 0) != 0 {
        (b.dims[1], b.dims[0])
    } else {
        (b.dims[0], b.dims[1])
    };
    if k != k2 {
        return Err(format!(
            "A {:?} and B {:?} (transA/transB applied) disagree on the inner size ({k} vs {k2})",
            a.dims, b.dims
        ));
    }
    Ok(smallvec![Tensor::new(a.dtype, smallvec![m, n])])
}

/// Numpy `matmul` shape rule.
pub(super) fn matmul(a: &Tensor, b: &Tensor) -> Result<Tensor, String> {
    if a.dims.is_empty() || b.dims.is_empty() {
        return Err("MatMul operands must have rank at least 1".into());
    }
    let mut da = a.dims.clone();
    let mut db = b.dims.clone();
    let a_vector = da.len() == 1;
    let b_vector = db.len() == 1;
    if a_vector {
        da.insert(0, 1);
    }
    if b_vector {
        db.push(1);
    }
    let (m, k) = (da[da.len() - 2], da[da.len() - 1]);
    let (k2, n) = (db[db.len() - 2], db[db.len() - 1]);
    if k != k2 {
        return Err(format!(
            "operands {:?} and {:?} disagree on the inner size ({k} vs {k2})",
            a.dims, b.dims
        ));
    }
    let mut dims = broadcast_dims(&da[..da.len() - 2], &db[..db.len() - 2])?;
    if !a_vector {
        dims.push(m);
    }
    if !b_vector {
        dims.push(n);
    }
    Ok(Tensor::new(a.dtype, dims))
}

/// The same values under new dimensions (Reshape, Flatten, Squeeze, Unsqueeze).
fn relabel(x: &Tensor, dims: Dims) -> Outputs {
    let mut out = Tensor::new(x.dtype, dims);
    out.data = x.data.clone();
    smallvec![out]
}

fn flatten(ctx: &Ctx) -> Result<Outputs, String> {
    let x = ctx.input(0)?;
    let rank = x.dims.len();
    let axis = ctx.attrs.int_or("axis", 1);
    let axis = if axis < 0 { axis + rank as i64 } else { axis };
    if !(0..=rank as i64).contains(&axis) {
        return Err(format!(
            "axis {} is out of range for rank {rank}",
            ctx.attrs.int_or("axis", 1)
        ));
    }
    let axis = axis as usize;
    let dims = smallvec![
        checked_product(&x.dims[..axis])?,
        checked_product(&x.dims[axis..])?,
    ];
    Ok(relabel(x, dims))
}

fn reshape(ctx: &Ctx) -> Result<Outputs, String> {
    let x = ctx.input(0)?;
    let target = if ctx.opset >= 5 {
        ctx.const_ints(1, "target shape")?
            .ok_or("input 1 (the target shape) is missing")?
    } else {
        ctx.attrs
            .ints("shape")
            .ok_or("attribute 'shape' is missing")?
            .to_vec()
    };
    let allow_zero = ctx.attrs.int_or("allowzero", 0) != 0;
    let total = checked_product(&x.dims)?;
    let mut dims = Dims::with_capacity(target.len());
    let mut inferred = None;
    for (axis, &value) in target.iter().enumerate() {
        match value {
            -1 if inferred.is_none() => {
                inferred = Some(axis);
                dims.push(1);
            }
            -1 => return Err(format!("target shape {target:?} has more than one -1")),
            0 if !allow_zero => dims.push(*x.dims.get(axis).ok_or_else(|| {
                format!(
                    "target shape {target:?} copies axis {axis}, which input {:?} lacks",
                    x.dims
                )
            })?),
            v if v >= 0 => dims.push(v as u64),
            v => return Err(format!("target shape {target:?} has the invalid size {v}")),
        }
    }
    let known = checked_product(&dims)?;
    if let Some(axis) = inferred {
        if known == 0 || total % known != 0 {
            return Err(format!(
                "input {:?} ({total} elements) cannot be reshaped to {target:?}",
                x.dims
            ));
        }
        dims[axis] = total / known;
    } else if known != total {
        return Err(format!(
            "input {:?} ({total} elements) cannot be reshaped to {target:?} ({known} elements)",
            x.dims
        ));
    }
    Ok(relabel(x, dims))
}

fn squeeze(ctx: &Ctx) -> Result<Outputs, String> {
    let x = ctx.input(0)?;
    let axes = ctx.ints_input_or_attr(1, "axes", 13)?;
    let dims = match axes {
        Some(axes) if !axes.is_empty() => {
            let mut drop = Vec::new();
            for &axis in &axes {
                let index = axis_index(axis, x.dims.len())?;
                if x.dims[index] != 1 {
                    return Err(format!(
                        "axis {axis} has size {}; only size-1 axes can be squeezed",
                        x.dims[index]
                    ));
                }
                drop.push(index);
            }
            x.dims
                .iter()
                .enumerate()
                .filter(|(axis, _)| !drop.contains(axis))
                .map(|(_, &d)| d)
                .collect()
        }
        _ => x.dims.iter().copied().filter(|&d| d != 1).collect(),
    };
    Ok(relabel(x, dims))
}

fn unsqueeze(ctx: &Ctx) -> Result<Outputs, String> {
    let x = ctx.input(0)?;
    let axes = ctx
        .ints_input_or_attr(1, "axes", 13)?
        .ok_or("the axes to insert are missing")?;
    let rank = x.dims.len() + axes.len();
    let mut inserted = vec![false; rank];
    for &axis in &axes {
        let index = axis_index(axis, rank)?;
        if std::mem::replace(&mut inserted[index], true) {
            return Err(format!("axis {axis} is listed twice"));
        }
    }
    let mut source = x.dims.iter();
    let dims = inserted
        .iter()
        .map(|&new| if new { Some(1) } else { source.next().copied() })
        .collect::<Option<Dims>>()
        .ok_or("axes do not fit the input rank")?;
    Ok(relabel(x, dims))
}

fn transpose(ctx: &Ctx) -> Result<Outputs, String> {
    let x = ctx.input(0)?;
    let rank = x.dims.len();
    let perm = permutation(ctx.attrs.ints("perm"), rank)?;
    let dims: Vec<u64> = perm.iter().map(|&axis| x.dims[axis]).collect();
    let mut out = Tensor::new(x.dtype, Dims::from_slice(&dims));
    if let Some(data) = x.data.as_deref() {
        let in_strides = strides(&x.dims);
        let indices = index_map(&dims, |position| {
            position
                .iter()
                .zip(&perm)
                .map(|(&p, &axis)| p as usize * in_strides[axis])
                .sum()
        });
        out.data = Some(Rc::new(data.select(&indices)));
    }
    Ok(smallvec![out])
}

/// The `perm` attribute checked to be a permutation of `0..rank` (default: reversed axes).
pub(super) fn permutation(perm: Option<&[i64]>, rank: usize) -> Result<Vec<usize>, String> {
    let Some(perm) = perm.filter(|p| !p.is_empty()) else {
        return Ok((0..rank).rev().collect());
    };
    let mut seen = vec![false; rank];
    let mut out = Vec::with_capacity(rank);
    for &axis in perm {
        let index = usize::try_from(axis).ok().filter(|&a| a < rank && !seen[a]);
        let index =
            index.ok_or_else(|| format!("perm {perm:?} is not a permutation of 0..{rank}"))?;
        seen[index] = true;
        out.push(index);
    }
    if out.len() != rank {
        return Err(format!("perm {perm:?} is not a permutation of 0..{rank}"));
    }
    Ok(out)
}

/// For each position of a tensor of dimensions `dims` (row-major), `f(position)`.
fn index_map(dims: &[u64], mut f: impl FnMut(&[u64]) -> usize) -> Vec<usize> {
    let count = element_count(dims).unwrap_or(0) as usize;
    let mut out = Vec::with_capacity(count);
    let mut position = vec![0u64; dims.len()];
    for _ in 0..count {
        out.push(f(&position));
        for axis in (0..dims.len()).rev() {
            position[axis] += 1;
            if position[axis] < dims[axis] {
                break;
            }
            position[axis] = 0;
        }
    }
    out
}

fn expand(ctx: &Ctx) -> Result<Outputs, String> {
    let x = ctx.input(0)?;
    let shape = ctx
        .const_ints(1, "target shape")?
        .ok_or("input 1 (the target shape) is missing")?;
    let shape = to_dims(&shape, "the target shape")?;
    let dims = broadcast_dims(&x.dims, &shape)?;
    let mut out = Tensor::new(x.dtype, dims);
    if let Some(data) = x.data.as_deref()
        && small(&out.dims)
    {
        out.data = Some(Rc::new(data.select(&broadcast_indices(&x.dims, &out.dims))));
    }
    Ok(smallvec![out])
}

fn tile(ctx: &Ctx) -> Result<Outputs, String> {
    let x = ctx.input(0)?;
    let repeats = ctx
        .const_ints(1, "repeats")?
        .ok_or("input 1 (repeats) is missing")?;
    if repeats.len() != x.dims.len() {
        return Err(format!(
            "{} repeats for an input of rank {}",
            repeats.len(),
            x.dims.len()
        ));
    }
    let repeats = to_dims(&repeats, "repeats")?;
    let dims = x
        .dims
        .iter()
        .zip(&repeats)
        .map(|(&d, &r)| d.checked_mul(r).ok_or("size overflows"))
        .collect::<Result<Vec<u64>, _>>()?;
    let mut out = Tensor::new(x.dtype, Dims::from_slice(&dims));
    if let Some(data) = x.data.as_deref()
        && small(&dims)
    {
        let in_strides = strides(&x.dims);
        let indices = index_map(&dims, |position| {
            position
                .iter()
                .enumerate()
                .map(|(axis, &p)| (p % x.dims[axis]) as usize * in_strides[axis])
                .sum()
        });
        out.data = Some(Rc::new(data.select(&indices)));
    }
    Ok(smallvec![out])
}

fn concat(ctx: &Ctx) -> Result<Outputs, String> {
    let first = ctx.input(0)?;
    let rank = first.dims.len();
    let axis = axis_index(
        ctx.attrs.int("axis").ok_or("attribute 'axis' is missing")?,
        rank,
    )?;
    let mut dims = first.dims.clone();
    dims[axis] = 0;
    let mut parts = Vec::new();
    for index in 0..ctx.inputs.len() {
        let x = ctx.input(index)?;
        let compatible = x.dims.len() == rank
            && x.dims
                .iter()
                .enumerate()
                .all(|(a, &d)| a == axis || d == first.dims[a]);
        if !compatible {
            return Err(format!(
                "input {index} has shape {:?}, which does not match {:?} outside axis {axis}",
                x.dims, first.dims
            ));
        }
        dims[axis] = dims[axis]
            .checked_add(x.dims[axis])
            .ok_or("size overflows")?;
        parts.push(x);
    }
    let mut out = Tensor::new(first.dtype, dims.clone());
    let known: Option<Vec<&Data>> = parts.iter().map(|x| x.data.as_deref()).collect();
    if let Some(datas) = known.filter(|_| small(&dims)) {
        // Row-major: for each index before the axis, each input's block in turn.
        let inner = element_count(&dims[axis + 1..]).unwrap_or(0) as usize;
        let outer = element_count(&dims[..axis]).unwrap_or(0) as usize;
        let blocks = |o: usize| {
            parts.iter().zip(&datas).map(move |(x, data)| {
                let block = x.dims[axis] as usize * inner;
                (*data, o * block, block)
            })
        };
        let total = element_count(&dims).unwrap_or(0) as usize;
        let joined = if datas.iter().all(|d| matches!(d, Data::Int(_))) {
            let mut values = Vec::with_capacity(total);
            for o in 0..outer {
                for (data, start, len) in blocks(o) {
                    if let Data::Int(v) = data {
                        values.extend_from_slice(&v[start..start + len]);
                    }
                }
            }
            Data::Int(values)
        } else {
            let mut values = Vec::with_capacity(total);
            for o in 0..outer {
                for (data, start, len) in blocks(o) {
                    values.extend((start..start + len).map(|i| data.get_f64(i)));
                }
            }
            Data::Float(values)
        };
        out.data = Some(Rc::new(joined));
    }
    Ok(smallvec![out])
}

fn split(ctx: &Ctx) -> Result<Outputs, String> {
    let x = ctx.input(0)?;
    let axis = axis_index(ctx.attrs.int_or("axis", 0), x.dims.len())?;
    let size = x.dims[axis];
    let outputs = ctx.node.outputs;
    let sizes: Vec<u64> = match ctx.ints_input_or_attr(1, "split", 13)? {
        Some(split) if !split.is_empty() => to_dims(&split, "the split sizes")?.to_vec(),
        _ => {
            let parts = ctx
                .attrs
                .int("num_outputs")
                .map_or(outputs as u64, |n| n.max(1) as u64);
            if parts == 0 {
                return Err("it has no outputs".into());
            }
            let chunk = size.div_ceil(parts);
            if ctx.opset < 18 && size % parts != 0 {
                return Err(format!(
                    "axis {axis} of size {size} does not split evenly into {parts}"
                ));
            }
            (0..parts)
                .map(|i| chunk.min(size.saturating_sub(i * chunk)))
                .collect()
        }
    };
    if sizes.iter().sum::<u64>() != size || sizes.len() != outputs {
        return Err(format!(
            "split sizes {sizes:?} do not cover axis {axis} of size {size} with {outputs} outputs"
        ));
    }
    Ok(sizes
        .into_iter()
        .map(|s| {
            let mut dims = x.dims.clone();
            dims[axis] = s;
            Tensor::new(x.dtype, dims)
        })
        .collect())
}

fn slice(ctx: &Ctx) -> Result<Outputs, String> {
    let x = ctx.input(0)?;
    let rank = x.dims.len();
    let (starts, ends, axes, steps) = if ctx.opset >= 10 {
        (
            ctx.const_ints(1, "starts")?
                .ok_or("input 1 (starts) is missing")?,
            ctx.const_ints(2, "ends")?
                .ok_or("input 2 (ends) is missing")?,
            ctx.const_ints(3, "axes")?,
            ctx.const_ints(4, "steps")?,
        )
    } else {
        (
            ctx.attrs
                .ints("starts")
                .ok_or("attribute 'starts' is missing")?
                .to_vec(),
            ctx.attrs
                .ints("ends")
                .ok_or("attribute 'ends' is missing")?
                .to_vec(),
            ctx.attrs.ints("axes").map(<[i64]>::to_vec),
            None,
        )
    };
    let axes = axes.unwrap_or_else(|| (0..starts.len() as i64).collect());
    let steps = steps.unwrap_or_else(|| vec![1; starts.len()]);
    if ends.len() != starts.len() || axes.len() != starts.len() || steps.len() != starts.len() {
        return Err(format!(
            "starts, ends, axes and steps have different lengths ({}, {}, {}, {})",
            starts.len(),
            ends.len(),
            axes.len(),
            steps.len()
        ));
    }
    let mut begin = vec![0i128; rank];
    let mut step = vec![1i128; rank];
    let mut dims = x.dims.clone();
    for i in 0..starts.len() {
        let axis = axis_index(axes[i], rank)?;
        let dim = x.dims[axis] as i128;
        let s = steps[i] as i128;
        if s == 0 {
            return Err(format!("step for axis {axis} is 0"));
        }
        let mut start = starts[i] as i128;
        let mut end = ends[i] as i128;
        if start < 0 {
            start += dim;
        }
        if end < 0 {
            end += dim;
        }
        let len = if s > 0 {
            start = start.clamp(0, dim);
            end = end.clamp(0, dim);
            ((end - start).max(0) + s - 1) / s
        } else {
            start = start.clamp(0, (dim - 1).max(0));
            end = end.clamp(-1, dim - 1);
            ((start - end).max(0) + (-s) - 1) / (-s)
        };
        begin[axis] = start;
        step[axis] = s;
        dims[axis] = len as u64;
    }
    let mut out = Tensor::new(x.dtype, dims.clone());
    if let Some(data) = x.data.as_deref() {
        let in_strides = strides(&x.dims);
        let indices = index_map(&dims, |position| {
            position
                .iter()
                .enumerate()
                .map(|(axis, &p)| {
                    (begin[axis] + p as i128 * step[axis]) as usize * in_strides[axis]
                })
                .sum()
        });
        out.data = Some(Rc::new(data.select(&indices)));
    }
    Ok(smallvec![out])
}

fn gather(ctx: &Ctx) -> Result<Outputs, String> {
    let (x, indices) = (ctx.input(0)?, ctx.input(1)?);
    let axis = axis_index(ctx.attrs.int_or("axis", 0), x.dims.len())?;
    let mut dims = x.dims[..axis].to_vec();
    dims.extend_from_slice(&indices.dims);
    dims.extend_from_slice(&x.dims[axis + 1..]);
    let mut out = Tensor::new(x.dtype, Dims::from_slice(&dims));
    if let (Some(data), Some(picks)) = (x.data.as_deref(), indices.ints())
        && small(&dims)
    {
        let size = x.dims[axis] as i64;
        let mut resolved = Vec::with_capacity(picks.len());
        for &pick in picks {
            let index = if pick < 0 { pick + size } else { pick };
            if !(0..size).contains(&index) {
                return Err(format!(
                    "index {pick} is out of range for axis {axis} of size {size}"
                ));
            }
            resolved.push(index as usize);
        }
        let in_strides = strides(&x.dims);
        let index_rank = indices.dims.len();
        let index_strides = strides(&indices.dims);
        let selection = index_map(&dims, |position| {
            let mut offset = 0;
            for a in 0..axis {
                offset += position[a] as usize * in_strides[a];
            }
            let flat: usize = (0..index_rank)
                .map(|k| position[axis + k] as usize * index_strides[k])
                .sum();
            offset += resolved[flat] * in_strides[axis];
            for a in axis + 1..x.dims.len() {
                offset += position[a + index_rank - 1] as usize * in_strides[a];
            }
            offset
        });
        out.data = Some(Rc::new(data.select(&selection)));
    }
    Ok(smallvec![out])
}

fn gather_nd(ctx: &Ctx) -> Result<Outputs, String> {
    let (x, indices) = (ctx.input(0)?, ctx.input(1)?);
    let batch = ctx.attrs.int_or("batch_dims", 0).max(0) as usize;
    let last = *indices
        .dims
        .last()
        .ok_or("indices must have rank at least 1")? as usize;
    if batch + last > x.dims.len() {
        return Err(format!(
            "indices {:?} address more axes than data {:?} has",
            indices.dims, x.dims
        ));
    }
    let mut dims = indices.dims[..indices.dims.len() - 1].to_vec();
    dims.extend_from_slice(&x.dims[batch + last..]);
    Ok(smallvec![Tensor::new(x.dtype, dims.into())])
}

fn shape(ctx: &Ctx) -> Result<Outputs, String> {
    let x = ctx.input(0)?;
    let rank = x.dims.len() as i64;
    let clamp = |v: i64| {
        if v < 0 {
            (v + rank).max(0)
        } else {
            v.min(rank)
        }
    };
    let start = clamp(ctx.attrs.int_or("start", 0)) as usize;
    let end = clamp(ctx.attrs.int_or("end", rank)) as usize;
    let values: Vec<i64> = x.dims[start..end.max(start)]
        .iter()
        .map(|&d| i64::try_from(d).unwrap_or(i64::MAX))
        .collect();
    let mut out = Tensor::new(dtype::INT64, smallvec![values.len() as u64]);
    out.data = Some(Rc::new(Data::Int(values)));
    Ok(smallvec![out])
}

fn constant(ctx: &Ctx) -> Result<Outputs, String> {
    let attrs = ctx.attrs;
    let tensor = if let Some(proto) = attrs.tensor("value") {
        tensor_from_proto(proto).map_err(|e| format!("attribute 'value': {e}"))?
    } else if let Some(v) = attrs.float("value_float") {
        Tensor::new(dtype::FLOAT, Dims::new()).with_data(Data::Float(vec![f64::from(v)]))
    } else if let Some(v) = attrs.floats("value_floats") {
        Tensor::new(dtype::FLOAT, smallvec![v.len() as u64])
            .with_data(Data::Float(v.iter().map(|&x| f64::from(x)).collect()))
    } else if let Some(v) = attrs.int("value_int") {
        Tensor::new(dtype::INT64, Dims::new()).with_data(Data::Int(vec![v]))
    } else if let Some(v) = attrs.ints("value_ints") {
        Tensor::new(dtype::INT64, smallvec![v.len() as u64]).with_data(Data::Int(v.to_vec()))
    } else if attrs.has("value_string") {
        Tensor::new(8, Dims::new())
    } else if let Some(strings) = attrs.strings("value_strings") {
        Tensor::new(8, smallvec![strings.len() as u64])
    } else {
        return Err("it has no value attribute this importer reads (value, value_float(s), value_int(s), value_string(s))".into());
    };
    Ok(smallvec![tensor])
}

fn constant_of_shape(ctx: &Ctx) -> Result<Outputs, String> {
    let shape = ctx
        .const_ints(0, "shape")?
        .ok_or("input 0 (the shape) is missing")?;
    let dims = to_dims(&shape, "the shape")?;
    let fill = match ctx.attrs.tensor("value") {
        Some(proto) => tensor_from_proto(proto).map_err(|e| format!("attribute 'value': {e}"))?,
        None => Tensor::new(dtype::FLOAT, smallvec![1]).with_data(Data::Float(vec![0.0])),
    };
    let mut out = Tensor::new(fill.dtype, Dims::from_slice(&dims));
    if let Some(data) = fill.data.as_deref()
        && data.len() == 1
        && small(&dims)
    {
        out.data = Some(Rc::new(
            data.select(&vec![0; checked_product(&dims)? as usize]),
        ));
    }
    Ok(smallvec![out])
}

fn range(ctx: &Ctx) -> Result<Outputs, String> {
    let scalar = |index: usize, what: &str| -> Result<f64, String> {
        let x = ctx.input(index)?;
        match x.data.as_deref() {
            Some(data) if data.len() == 1 => Ok(data.get_f64(0)),
            Some(_) => Err(format!("input {index} ({what}) must be a scalar")),
            None => Err(format!(
                "input {index} ('{}', the {what}) decides the output size, but its value is not known when importing",
                ctx.name(index)
            )),
        }
    };
    let (start, limit, delta) = (
        scalar(0, "start")?,
        scalar(1, "limit")?,
        scalar(2, "delta")?,
    );
    if delta == 0.0 {
        return Err("delta is 0".into());
    }
    let count = ((limit - start) / delta).ceil().max(0.0);
    if count > u32::MAX as f64 {
        return Err(format!("{count} elements is too many"));
    }
    let count = count as u64;
    let code = ctx.input(0)?.dtype;
    let mut out = Tensor::new(code, smallvec![count]);
    if count <= VALUE_LIMIT {
        let data = match ctx.input(0)?.data.as_deref() {
            Some(Data::Int(_)) => Data::Int(
                (0..count as i64)
                    .map(|i| (start as i64).wrapping_add(i.wrapping_mul(delta as i64)))
                    .collect(),
            ),
            _ => Data::Float((0..count).map(|i| start + i as f64 * delta).collect()),
        };
        out.data = Some(Rc::new(data));
    }
    Ok(smallvec![out])
}

fn reduce_dims(dims: &[u64], axes: &[usize], keep: bool) -> Dims {
    dims.iter()
        .enumerate()
        .filter_map(|(axis, &d)| match (axes.contains(&axis), keep) {
            (false, _) => Some(d),
            (true, true) => Some(1),
            (true, false) => None,
        })
        .collect()
}

/// The axes a Reduce* node reduces, resolved against `rank` (all axes when none are given,
/// unless `noop_with_empty_axes`, which yields `None`: the node is an identity).
pub(super) fn reduce_axes(
    attrs: Attributes,
    axes_input: Option<Vec<i64>>,
    rank: usize,
) -> Result<Option<Vec<usize>>, String> {
    let axes = axes_input
        .or_else(|| attrs.ints("axes").map(<[i64]>::to_vec))
        .unwrap_or_default();
    if axes.is_empty() {
        if attrs.int_or("noop_with_empty_axes", 0) != 0 {
            return Ok(None);
        }
        return Ok(Some((0..rank).collect()));
    }
    let mut resolved = axes
        .iter()
        .map(|&a| axis_index(a, rank))
        .collect::<Result<Vec<_>, _>>()?;
    resolved.sort_unstable();
    resolved.dedup();
    Ok(Some(resolved))
}

/// The opset from which a Reduce operator takes its axes as an input.
pub(super) fn reduce_axes_input_since(op: &str) -> i64 {
    if op == "ReduceSum" { 13 } else { 18 }
}

fn reduce(ctx: &Ctx, op: &str) -> Result<Outputs, String> {
    let x = ctx.input(0)?;
    let input = if ctx.opset >= reduce_axes_input_since(op) {
        ctx.const_ints(1, "axes")?
    } else {
        None
    };
    let keep = ctx.attrs.int_or("keepdims", 1) != 0;
    let Some(axes) = reduce_axes(ctx.attrs, input, x.dims.len())? else {
        return Ok(smallvec![x.clone()]);
    };
    let dims = reduce_dims(&x.dims, &axes, keep);
    let mut out = Tensor::new(x.dtype, Dims::from_slice(&dims));
    if let Some(data) = x.data.as_deref() {
        let kept = reduce_dims(&x.dims, &axes, true);
        let kept_strides = strides(&kept);
        let targets = index_map(&x.dims, |position| {
            position
                .iter()
                .enumerate()
                .map(|(axis, &p)| {
                    if axes.contains(&axis) {
                        0
                    } else {
                        p as usize * kept_strides[axis]
                    }
                })
                .sum()
        });
        let slots = checked_product(&kept)? as usize;
        let (init, fold): (f64, fn(f64, f64) -> f64) = match op {
            "ReduceSum" | "ReduceMean" => (0.0, |a, b| a + b),
            "ReduceProd" => (1.0, |a, b| a * b),
            "ReduceMax" => (f64::NEG_INFINITY, f64::max),
            "ReduceMin" => (f64::INFINITY, f64::min),
            _ => return Ok(smallvec![out]),
        };
        let mut acc = vec![init; slots];
        for (i, &t) in targets.iter().enumerate() {
            acc[t] = fold(acc[t], data.get_f64(i));
        }
        if op == "ReduceMean" {
            let n = (x.elements().unwrap_or(1) as f64) / (slots.max(1) as f64);
            acc.iter_mut().for_each(|v| *v /= n);
        }
        out.data = Some(Rc::new(Data::Float(acc).cast(x.dtype)));
    }
    Ok(smallvec![out])
}

fn pad(ctx: &Ctx) -> Result<Outputs, String> {
    let x = ctx.input(0)?;
    let rank = x.dims.len();
    let pads = if ctx.opset >= 11 {
        ctx.const_ints(1, "pads")?
            .ok_or("input 1 (pads) is missing")?
    } else {
        ctx.attrs
            .ints("pads")
            .or_else(|| ctx.attrs.ints("paddings"))
            .ok_or("attribute 'pads' is missing")?
            .to_vec()
    };
    let axes: Vec<usize> = match ctx.const_ints(3, "axes")? {
        Some(axes) if ctx.opset >= 18 => axes
            .iter()
            .map(|&a| axis_index(a, rank))
            .collect::<Result<_, _>>()?,
        _ => (0..rank).collect(),
    };
    if pads.len() != 2 * axes.len() {
        return Err(format!(
            "{} pad values for {} axes; twice as many are needed",
            pads.len(),
            axes.len()
        ));
    }
    let mut dims = x.dims.clone();
    for (i, &axis) in axes.iter().enumerate() {
        let size = x.dims[axis] as i128 + pads[i] as i128 + pads[i + axes.len()] as i128;
        dims[axis] =
            u64::try_from(size).map_err(|_| format!("axis {axis} would have the size {size}"))?;
    }
    Ok(smallvec![Tensor::new(x.dtype, dims)])
}

/// A float-valued input that may be absent or empty (Resize's `scales`).
fn optional_floats(ctx: &Ctx, index: usize, what: &str) -> Result<Option<Vec<f64>>, String> {
    match ctx.opt(index) {
        None => Ok(None),
        Some(x) if x.elements() == Some(0) => Ok(None),
        Some(x) => match x.data.as_deref() {
            Some(data) => Ok(Some((0..data.len()).map(|i| data.get_f64(i)).collect())),
            None => Err(format!(
                "input {index} ('{}', the {what}) decides the output shape, but its values are not known when importing",
                ctx.name(index)
            )),
        },
    }
}

fn resize(ctx: &Ctx, op: &str) -> Result<Outputs, String> {
    let x = ctx.input(0)?;
    let rank = x.dims.len();
    let (scales_index, sizes_index) = match (op, ctx.opset) {
        ("Resize", v) if v >= 11 => (2, Some(3)),
        _ => (1, None),
    };
    let axes: Vec<usize> = match ctx.attrs.ints("axes") {
        Some(axes) => axes
            .iter()
            .map(|&a| axis_index(a, rank))
            .collect::<Result<_, _>>()?,
        None => (0..rank).collect(),
    };
    let mut dims = x.dims.clone();
    let sizes = match sizes_index {
        Some(index) if ctx.opt(index).is_some_and(|t| t.elements() != Some(0)) => {
            ctx.const_ints(index, "sizes")?
        }
        _ => None,
    };
    if let Some(sizes) = sizes {
        if ctx
            .attrs
            .string("keep_aspect_ratio_policy")
            .is_some_and(|p| p != "stretch")
        {
            return Err("keep_aspect_ratio_policy other than 'stretch' is not supported".into());
        }
        if sizes.len() != axes.len() {
            return Err(format!("{} sizes for {} axes", sizes.len(), axes.len()));
        }
        for (&axis, &size) in axes.iter().zip(&sizes) {
            dims[axis] = u64::try_from(size).map_err(|_| format!("size {size} is negative"))?;
        }
        return Ok(smallvec![Tensor::new(x.dtype, dims)]);
    }
    let scales = if op == "Upsample" && ctx.opset < 9 {
        ctx.attrs
            .floats("scales")
            .map(|s| s.iter().map(|&v| f64::from(v)).collect())
    } else {
        optional_floats(ctx, scales_index, "scales")?
    };
    let scales = scales.ok_or("neither sizes nor scales are given")?;
    if scales.len() != axes.len() {
        return Err(format!("{} scales for {} axes", scales.len(), axes.len()));
    }
    for (&axis, &scale) in axes.iter().zip(&scales) {
        let size = (x.dims[axis] as f64 * scale).floor();
        if !(0.0..=u32::MAX as f64).contains(&size) {
            return Err(format!("scale {scale} gives axis {axis} the size {size}"));
        }
        dims[axis] = size as u64;
    }
    Ok(smallvec![Tensor::new(x.dtype, dims)])
}

fn topk(ctx: &Ctx) -> Result<Outputs, String> {
    let x = ctx.input(0)?;
    let axis = axis_index(ctx.attrs.int_or("axis", -1), x.dims.len())?;
    let k = if ctx.opset >= 10 {
        ctx.scalar_int(1, "k")?
    } else {
        ctx.attrs.int("k").ok_or("attribute 'k' is missing")?
    };
    let k = u64::try_from(k).map_err(|_| format!("k is {k}"))?;
    let mut dims = x.dims.clone();
    dims[axis] = k.min(dims[axis]);
    Ok(smallvec![
        Tensor::new(x.dtype, dims.clone()),
        Tensor::new(dtype::INT64, dims),
    ])
}

fn depth_space(ctx: &Ctx, op: &str) -> Result<Outputs, String> {
    let x = ctx.input(0)?;
    let block = ctx
        .attrs
        .int("blocksize")
        .ok_or("attribute 'blocksize' is missing")?;
    let block = u64::try_from(block)
        .ok()
        .filter(|&b| b > 0)
        .ok_or("blocksize must be positive")?;
    let [n, c, h, w] = x.dims[..] else {
        return Err(format!("input must have rank 4, not {}", x.dims.len()));
    };
    let square = block * block;
    let dims = if op == "DepthToSpace" {
        if c % square != 0 {
            return Err(format!(
                "{c} channels are not divisible by blocksize² = {square}"
            ));
        }
        vec![n, c / square, h * block, w * block]
    } else {
        if h % block != 0 || w % block != 0 {
            return Err(format!("{h}x{w} is not divisible by blocksize {block}"));
        }
        vec![n, c * square, h / block, w / block]
    };
    Ok(smallvec![Tensor::new(x.dtype, dims.into())])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::onnx::read::AttributeProto;
    use prost::bytes::Bytes;

    /// A node for [`run`]: its op type, input names, attributes and output count.
    struct TestNode {
        op: &'static str,
        input: Vec<String>,
        attributes: Vec<AttributeProto>,
        outputs: usize,
    }

    fn node(op: &'static str, inputs: usize, attributes: Vec<AttributeProto>) -> TestNode {
        TestNode {
            op,
            input: (0..inputs).map(|i| format!("in{i}")).collect(),
            attributes,
            outputs: 1,
        }
    }

    fn ints_attr(name: &str, values: &[i64]) -> AttributeProto {
        AttributeProto {
            name: Some(Bytes::copy_from_slice(name.as_bytes())),
            ints: values.to_vec(),
            ..AttributeProto::default()
        }
    }

    fn int_attr(name: &str, value: i64) -> AttributeProto {
        AttributeProto {
            name: Some(Bytes::copy_from_slice(name.as_bytes())),
            i: Some(value),
            ..AttributeProto::default()
        }
    }

    fn string_attr(name: &str, value: &str) -> AttributeProto {
        AttributeProto {
            name: Some(Bytes::copy_from_slice(name.as_bytes())),
            s: Some(Bytes::copy_from_slice(value.as_bytes())),
            ..AttributeProto::default()
        }
    }

    fn weight(dims: &[u64]) -> Tensor {
        let mut t = activation(dims);
        t.is_static = true;
        t
    }

    #[test]
    fn recurrent_layers_by_hand() {
        // LSTM, sequence-first: X [7 steps, batch 1, 16 features], 32 hidden units.
        let mut lstm = node("LSTM", 2, vec![int_attr("hidden_size", 32)]);
        lstm.outputs = 3;
        let out = run(
            &lstm,
            14,
            &[&activation(&[7, 1, 16]), &weight(&[1, 128, 16])],
        )
        .unwrap();
        let dims: Vec<&[u64]> = out.iter().map(|t| t.dims.as_slice()).collect();
        assert_eq!(dims, [&[7, 1, 1, 32][..], &[1, 1, 32], &[1, 1, 32]]);
        // Bidirectional GRU, batch-first, hidden size from the weight's 3 x 10 rows.
        let mut gru = node(
            "GRU",
            2,
            vec![
                string_attr("direction", "bidirectional"),
                int_attr("layout", 1),
            ],
        );
        gru.outputs = 2;
        let out = run(&gru, 14, &[&activation(&[2, 5, 8]), &weight(&[2, 30, 8])]).unwrap();
        let dims: Vec<&[u64]> = out.iter().map(|t| t.dims.as_slice()).collect();
        assert_eq!(dims, [&[2, 5, 2, 10][..], &[2, 2, 10]]);
        // A weight for one direction under a bidirectional layer does not fit.
        let error = run(&gru, 14, &[&activation(&[2, 5, 8]), &weight(&[1, 30, 8])]).unwrap_err();
        assert!(error.contains("2 direction(s)"), "{error}");
    }

    fn activation(dims: &[u64]) -> Tensor {
        Tensor::new(dtype::FLOAT, Dims::from_slice(dims))
    }

    fn ints(values: &[i64]) -> Tensor {
        let mut t = Tensor::new(dtype::INT64, smallvec![values.len() as u64])
            .with_data(Data::Int(values.to_vec()));
        t.is_static = true;
        t
    }

    fn run(n: &TestNode, opset: i64, inputs: &[&Tensor]) -> Result<Outputs, String> {
        let inputs: Vec<Option<&Tensor>> = inputs.iter().map(|&t| Some(t)).collect();
        let names: Vec<&str> = n.input.iter().map(String::as_str).collect();
        let input_ids: Vec<Option<u32>> = (0..names.len() as u32).map(Some).collect();
        let node = NodeRef {
            text: NodeText {
                op: n.op,
                domain: "",
                name: "",
            },
            attrs: Attributes(&n.attributes),
            input_ids: &input_ids,
            names: &names,
            outputs: n.outputs,
        };
        infer(node, opset, &inputs).map(|o| o.expect("a supported op"))
    }

    fn floats(values: &[f64]) -> Tensor {
        let mut t = Tensor::new(dtype::FLOAT, smallvec![values.len() as u64])
            .with_data(Data::Float(values.to_vec()));
        t.is_static = true;
        t
    }

    fn float_attr(name: &str, value: f32) -> AttributeProto {
        AttributeProto {
            name: Some(Bytes::copy_from_slice(name.as_bytes())),
            f: Some(value),
            ..AttributeProto::default()
        }
    }

    #[test]
    fn clip_is_evaluated_on_known_values() {
        let values = |out: Outputs| out[0].data.as_deref().cloned();
        // TensorFlow "same" padding of a 3x3 stride-2 conv on 224: max(0, (112 - 1) * 2 + 3
        // - 224) = 1 total, from inputs (opset 11 on) ...
        let clip = node("Clip", 2, vec![]);
        let pads = run(&clip, 13, &[&floats(&[-3.0, 1.0, 2.5]), &floats(&[0.0])]).unwrap();
        assert_eq!(values(pads), Some(Data::Float(vec![0.0, 1.0, 2.5])));
        let both = node("Clip", 3, vec![]);
        let ints_out = run(&both, 13, &[&ints(&[-5, 3, 9]), &ints(&[0]), &ints(&[6])]).unwrap();
        assert_eq!(values(ints_out), Some(Data::Int(vec![0, 3, 6])));
        // ... or from attributes before; a lower bound above the upper one gives the upper.
        let old = node(
            "Clip",
            1,
            vec![float_attr("min", 4.0), float_attr("max", 2.0)],
        );
        let out = run(&old, 6, &[&floats(&[1.0, 9.0])]).unwrap();
        assert_eq!(values(out), Some(Data::Float(vec![2.0, 2.0])));
        // An unknown bound leaves the values unknown; the shape is known either way.
        let out = run(&clip, 13, &[&floats(&[1.0]), &activation(&[1])]).unwrap();
        assert_eq!(
            (out[0].dims.as_slice(), values(out.clone())),
            (&[1u64][..], None)
        );
    }

    #[test]
    fn conv_output_by_hand() {
        // 224x224, 7x7 kernel, stride 2, pad 3: (224 + 6 - 7) / 2 + 1 = 112.
        let n = node(
            "Conv",
            2,
            vec![
                ints_attr("strides", &[2, 2]),
                ints_attr("pads", &[3, 3, 3, 3]),
            ],
        );
        let out = run(
            &n,
            17,
            &[&activation(&[1, 3, 224, 224]), &activation(&[64, 3, 7, 7])],
        )
        .unwrap();
        assert_eq!(out[0].dims.as_slice(), [1, 64, 112, 112]);
        let bad = run(
            &n,
            17,
            &[&activation(&[1, 4, 224, 224]), &activation(&[64, 3, 7, 7])],
        )
        .unwrap_err();
        assert!(bad.contains("the input has 4 channels"), "{bad}");
    }

    #[test]
    fn pooling_ceil_mode_rounds_up() {
        // 112 with kernel 3, stride 2, no padding: (112 - 3) / 2 = 54.5 -> 55 + 1 = 56 (ceil) or 55.
        let mut attributes = vec![
            ints_attr("kernel_shape", &[3, 3]),
            ints_attr("strides", &[2, 2]),
        ];
        let floor = run(
            &node("MaxPool", 1, attributes.clone()),
            17,
            &[&activation(&[1, 8, 112, 112])],
        )
        .unwrap();
        assert_eq!(floor[0].dims.as_slice(), [1, 8, 55, 55]);
        attributes.push(int_attr("ceil_mode", 1));
        let ceil = run(
            &node("MaxPool", 1, attributes),
            17,
            &[&activation(&[1, 8, 112, 112])],
        )
        .unwrap();
        assert_eq!(ceil[0].dims.as_slice(), [1, 8, 56, 56]);
    }

    #[test]
    fn shape_arithmetic_is_evaluated() {
        let x = activation(&[1, 96, 56, 56]);
        let shape = run(&node("Shape", 1, vec![]), 17, &[&x]).unwrap().remove(0);
        assert_eq!(shape.ints(), Some(&[1, 96, 56, 56][..]));
        let gathered = run(
            &node("Gather", 2, vec![int_attr("axis", 0)]),
            17,
            &[&shape, &ints(&[-1, 1])],
        )
        .unwrap()
        .remove(0);
        assert_eq!(gathered.ints(), Some(&[56, 96][..]));
        let divided = run(&node("Div", 2, vec![]), 17, &[&gathered, &ints(&[7])])
            .unwrap()
            .remove(0);
        assert_eq!(divided.ints(), Some(&[8, 13][..]));
        let modded = run(&node("Mod", 2, vec![]), 17, &[&ints(&[-3, 5]), &ints(&[7])])
            .unwrap()
            .remove(0);
        assert_eq!(
            modded.ints(),
            Some(&[4, 5][..]),
            "integer Mod takes the divisor's sign"
        );
        let reshaped = run(
            &node("Reshape", 2, vec![]),
            17,
            &[&x, &ints(&[0, 8, 7, -1])],
        )
        .unwrap();
        assert_eq!(
            reshaped[0].dims.as_slice(),
            [1, 8, 7, 96 * 56 * 56 / (8 * 7)]
        );
        let sliced = run(
            &node("Slice", 4, vec![]),
            17,
            &[&shape, &ints(&[-2]), &ints(&[i64::MAX]), &ints(&[0])],
        )
        .unwrap();
        assert_eq!(sliced[0].ints(), Some(&[56, 56][..]));
        let reversed = run(
            &node("Slice", 5, vec![]),
            17,
            &[
                &shape,
                &ints(&[-1]),
                &ints(&[i64::MIN]),
                &ints(&[0]),
                &ints(&[-2]),
            ],
        )
        .unwrap();
        assert_eq!(reversed[0].ints(), Some(&[56, 96][..]));
    }

    #[test]
    fn unknown_shape_inputs_are_named() {
        let x = activation(&[1, 96, 56, 56]);
        let mut n = node("Reshape", 2, vec![]);
        n.input[1] = "computed_shape".into();
        let error = run(&n, 17, &[&x, &activation(&[4])]).unwrap_err();
        assert!(error.contains("'computed_shape'"), "{error}");
        assert!(error.contains("not known when importing"), "{error}");
        let error = run(&node("Reshape", 2, vec![]), 17, &[&x, &ints(&[5, -1])]).unwrap_err();
        assert!(error.contains("cannot be reshaped"), "{error}");
    }

    #[test]
    fn matmul_broadcasts_batches() {
        let out = matmul(&activation(&[64, 3, 49, 32]), &activation(&[64, 3, 32, 49])).unwrap();
        assert_eq!(out.dims.as_slice(), [64, 3, 49, 49]);
        let out = matmul(&activation(&[1, 196, 384]), &activation(&[384, 1536])).unwrap();
        assert_eq!(out.dims.as_slice(), [1, 196, 1536]);
        assert!(matmul(&activation(&[2, 3]), &activation(&[4, 5])).is_err());
    }

    #[test]
    fn opset_decides_where_axes_come_from() {
        let x = activation(&[1, 8, 1, 1]);
        let old = run(
            &node("Squeeze", 1, vec![ints_attr("axes", &[2, 3])]),
            11,
            &[&x],
        )
        .unwrap();
        assert_eq!(old[0].dims.as_slice(), [1, 8]);
        let new = run(&node("Squeeze", 2, vec![]), 13, &[&x, &ints(&[-1, -2])]).unwrap();
        assert_eq!(new[0].dims.as_slice(), [1, 8]);
        let mean = run(
            &node(
                "ReduceMean",
                1,
                vec![ints_attr("axes", &[2, 3]), int_attr("keepdims", 0)],
            ),
            17,
            &[&activation(&[1, 8, 7, 7])],
        )
        .unwrap();
        assert_eq!(mean[0].dims.as_slice(), [1, 8]);
        let mean = run(
            &node("ReduceMean", 2, vec![]),
            18,
            &[&activation(&[1, 8, 7, 7]), &ints(&[-1])],
        )
        .unwrap();
        assert_eq!(mean[0].dims.as_slice(), [1, 8, 7, 1]);
    }
}
