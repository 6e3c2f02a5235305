//! Once-for-All MobileNetV3 (width 1.0) subnets as computation graphs.
//!
//! A subnet is chosen by 20 kernel sizes `ks`, 20 expand ratios `e` (one per block slot,
//! 4 slots per stage) and 5 stage depths `d`; stage s runs slots `4s..4s+d[s]-1`. [`ofa_mbv3`]
//! builds the network exactly as mit-han-lab/once-for-all's `OFAMobileNetV3` runs it
//! (`ofa_mbv3.py`, `dynamic_layers.py`'s `get_active_subnet_config`, `ofa/utils/layers.py`):
//!
//! - first conv: 3x3 stride 2 to 16 channels, BN, h-swish;
//! - first block: MBConv with expand ratio 1 (depthwise 3x3, BN, ReLU, pointwise 1x1 to 16,
//!   BN) plus the identity shortcut;
//! - 5 stages of widths 24/40/80/112/160, first-block strides 2/2/2/1/2, activations
//!   ReLU/ReLU/h-swish/h-swish/h-swish, squeeze-excite in stages 2, 4 and 5 (widths 40, 112
//!   and 160; `se_stages = [False, False, True, False, True, True]` counting the first block);
//! - block: 1x1 expand to `make_divisible(round(in * e), 8)` channels, BN, act; depthwise kxk
//!   with the stage stride, BN, act; SE; 1x1 project, BN; the identity shortcut is added when
//!   the block keeps stride 1 and its channel count;
//! - SE (`SEModule`): global average pool, 1x1 conv with bias to `make_divisible(mid / 4, 8)`,
//!   ReLU, 1x1 conv with bias back to `mid`, h-sigmoid, multiply with the block's tensor;
//! - final expand: 1x1 conv to 960, BN, h-swish; global average pool; feature mix: 1x1 conv
//!   to 1280 without bias or BN, h-swish; classifier: linear to 1000 with bias (its dropout
//!   is a training-time op and has no node).
//!
//! Convolutions pad by `kernel / 2`, so a stride-s window maps size n to ceil(n / s).

use crate::error::{Error, Result};
use crate::graph::{Graph, Op, Shape};
use crate::import::builder::{NetBuilder, Tensor};

/// Block slots of the elastic network: 5 stages of up to 4 blocks.
pub const OFA_BLOCK_SLOTS: usize = 20;
/// Stages with an elastic depth.
pub const OFA_STAGES: usize = 5;
/// The kernel sizes a block may take.
pub const OFA_KERNEL_SIZES: [u8; 3] = [3, 5, 7];
/// The expand ratios a block may take.
pub const OFA_EXPAND_RATIOS: [u8; 3] = [3, 4, 6];
/// The depths a stage may take.
pub const OFA_DEPTHS: [u8; 3] = [2, 3, 4];
/// Smallest and largest input resolution; OFA trains on every multiple of 4 between them
/// (`MyRandomResizedCrop` with `IMAGE_SIZE_LIST` 128..224, `CONTINUOUS`, `IMAGE_SIZE_SEG` 4).
pub const OFA_RESOLUTIONS: (u32, u32) = (128, 224);

const STAGE_WIDTHS: [u32; OFA_STAGES] = [24, 40, 80, 112, 160];
const STAGE_STRIDES: [u32; OFA_STAGES] = [2, 2, 2, 1, 2];
const STAGE_ACTIVATIONS: [Op; OFA_STAGES] = [
    Op::Relu,
    Op::Relu,
    Op::HardSwish,
    Op::HardSwish,
    Op::HardSwish,
];
const STAGE_SE: [bool; OFA_STAGES] = [false, true, false, true, true];
const FIRST_CONV_WIDTH: u32 = 16;
const FINAL_EXPAND_WIDTH: u32 = 960;
const FEATURE_MIX_WIDTH: u32 = 1280;
const IMAGENET_CLASSES: u32 = 1000;
/// `MyNetwork.CHANNEL_DIVISIBLE`.
const CHANNEL_DIVISIBLE: u32 = 8;
/// `SEModule.REDUCTION`.
const SE_REDUCTION: u32 = 4;

/// OFA's `make_divisible(v, 8)`: round to the nearest multiple of 8 (halves up), at least 8,
/// and never more than 10% below `v`.
fn make_divisible(value: u32) -> u32 {
    let divisor = CHANNEL_DIVISIBLE;
    let rounded = ((value + divisor / 2) / divisor * divisor).max(divisor);
    if 10 * rounded < 9 * value {
        rounded + divisor
    } else {
        rounded
    }
}

/// Checks that `values` has `expected_len` entries, each one of `allowed`.
fn check_choices(name: &str, values: &[u8], expected_len: usize, allowed: &[u8]) -> Result<()> {
    if values.len() != expected_len {
        return Err(Error::invalid(format!(
            "OFA MobileNetV3: {name} has {} values, expected {expected_len}",
            values.len()
        )));
    }
    match values
        .iter()
        .enumerate()
        .find(|(_, value)| !allowed.contains(value))
    {
        Some((position, value)) => Err(Error::invalid(format!(
            "OFA MobileNetV3: {name}[{position}] = {value}, expected one of {allowed:?}"
        ))),
        None => Ok(()),
    }
}

/// The OFA MobileNetV3 (width 1.0) subnet with kernel sizes `ks` (20 values in {3, 5, 7}),
/// expand ratios `e` (20 values in {3, 4, 6}) and stage depths `d` (5 values in {2, 3, 4}),
/// on a `resolution` x `resolution` RGB image (a multiple of 4 in 128..=224), classifying
/// into the 1000 ImageNet classes. Slots beyond a stage's depth are validated but unused.
pub fn ofa_mbv3(ks: &[u8], e: &[u8], d: &[u8], resolution: u32) -> Result<Graph> {
    check_choices("ks", ks, OFA_BLOCK_SLOTS, &OFA_KERNEL_SIZES)?;
    check_choices("e", e, OFA_BLOCK_SLOTS, &OFA_EXPAND_RATIOS)?;
    check_choices("d", d, OFA_STAGES, &OFA_DEPTHS)?;
    let (low, high) = OFA_RESOLUTIONS;
    if !(low..=high).contains(&resolution) || !resolution.is_multiple_of(4) {
        return Err(Error::invalid(format!(
            "OFA MobileNetV3: resolution {resolution} is not one OFA trains on \
             (a multiple of 4 from {low} to {high})"
        )));
    }

    let mut b = NetBuilder::new();
    let input = b.input(Shape::new(resolution, resolution, 3))?;
    let x = b.conv(input, FIRST_CONV_WIDTH, 3, 2, "first_conv/conv".into())?;
    let x = b.batch_norm(x, "first_conv/bn".into())?;
    let mut x = b.unary(Op::HardSwish, x, "first_conv/act".into())?;

    // The first block: MBConv with expand ratio 1 (no expansion) and a shortcut.
    let y = b.depthwise_conv(x, 3, 1, 1, "blocks.0/depth_conv/conv".into())?;
    let y = b.batch_norm(y, "blocks.0/depth_conv/bn".into())?;
    let y = b.relu(y, "blocks.0/depth_conv/act".into())?;
    let y = b.conv(
        y,
        FIRST_CONV_WIDTH,
        1,
        1,
        "blocks.0/point_linear/conv".into(),
    )?;
    let y = b.batch_norm(y, "blocks.0/point_linear/bn".into())?;
    x = b.add(&[x, y], "blocks.0/add".into())?;

    for stage in 0..OFA_STAGES {
        for depth in 0..usize::from(d[stage]) {
            let slot = 4 * stage + depth;
            let stride = if depth == 0 { STAGE_STRIDES[stage] } else { 1 };
            let block = MbConv {
                out_c: STAGE_WIDTHS[stage],
                kernel: u32::from(ks[slot]),
                expand: u32::from(e[slot]),
                stride,
                act: STAGE_ACTIVATIONS[stage].clone(),
                se: STAGE_SE[stage],
            };
            // Block indices as in the supernet: blocks.0 is the first block.
            x = mb_conv(&mut b, x, &block, &format!("blocks.{}", slot + 1))?;
        }
    }

    let x = b.conv(
        x,
        FINAL_EXPAND_WIDTH,
        1,
        1,
        "final_expand_layer/conv".into(),
    )?;
    let x = b.batch_norm(x, "final_expand_layer/bn".into())?;
    let x = b.unary(Op::HardSwish, x, "final_expand_layer/act".into())?;
    let x = b.global_avg_pool(x, "global_avg_pool".into())?;
    let x = b.conv(x, FEATURE_MIX_WIDTH, 1, 1, "feature_mix_layer/conv".into())?;
    let x = b.unary(Op::HardSwish, x, "feature_mix_layer/act".into())?;
    let logits = b.linear(x, IMAGENET_CLASSES, "classifier/linear".into())?;
    b.output(logits)?;
    Ok(b.finish())
}

/// One elastic block, resolved to its active choices.
struct MbConv {
    out_c: u32,
    kernel: u32,
    expand: u32,
    stride: u32,
    act: Op,
    se: bool,
}

/// `MBConvLayer` in a `ResidualBlock` (the shortcut when stride 1 keeps the channels).
fn mb_conv(b: &mut NetBuilder, x: Tensor, block: &MbConv, name: &str) -> Result<Tensor> {
    let mid = make_divisible(x.shape.c * block.expand);
    let act = || block.act.clone();
    let y = b.conv(x, mid, 1, 1, format!("{name}/inverted_bottleneck/conv"))?;
    let y = b.batch_norm(y, format!("{name}/inverted_bottleneck/bn"))?;
    let y = b.unary(act(), y, format!("{name}/inverted_bottleneck/act"))?;
    let y = b.depthwise_conv(
        y,
        block.kernel,
        block.stride,
        1,
        format!("{name}/depth_conv/conv"),
    )?;
    let y = b.batch_norm(y, format!("{name}/depth_conv/bn"))?;
    let mut y = b.unary(act(), y, format!("{name}/depth_conv/act"))?;
    if block.se {
        y = squeeze_excite(b, y, &format!("{name}/depth_conv/se"))?;
    }
    let y = b.conv(y, block.out_c, 1, 1, format!("{name}/point_linear/conv"))?;
    let y = b.batch_norm(y, format!("{name}/point_linear/bn"))?;
    if block.stride == 1 && x.shape.c == block.out_c {
        b.add(&[x, y], format!("{name}/add"))
    } else {
        Ok(y)
    }
}

/// `SEModule`: pool, reduce (bias), ReLU, expand (bias), h-sigmoid, scale the input.
fn squeeze_excite(b: &mut NetBuilder, x: Tensor, name: &str) -> Result<Tensor> {
    let c = x.shape.c;
    let reduced = make_divisible(c / SE_REDUCTION);
    let s = b.global_avg_pool(x, format!("{name}/pool"))?;
    let s = b.conv_with_bias(s, reduced, 1, format!("{name}/fc/reduce"))?;
    let s = b.relu(s, format!("{name}/fc/relu"))?;
    let s = b.conv_with_bias(s, c, 1, format!("{name}/fc/expand"))?;
    let s = b.unary(Op::HardSigmoid, s, format!("{name}/fc/h_sigmoid"))?;
    b.mul(&[x, s], format!("{name}/mul"))
}

#[cfg(test)]
mod tests;
