//! Bytes as a model file to the predictor loader (ONNX Runtime parses them, then our metadata
//! checks run): any bytes give a predictor or an error. A model that loads scores a graph.
#![no_main]

use std::sync::LazyLock;

use cgpredict::Graph;
use cgpredict::import::nasbench201;
use cgpredict::runtime::{Device, Predictor, PredictorOptions};
use libfuzzer_sys::fuzz_target;

static GRAPH: LazyLock<Graph> = LazyLock::new(|| {
    nasbench201(
        "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|",
        10,
    )
    .expect("a benchmark cell builds")
});

fuzz_target!(|bytes: &[u8]| {
    let options = PredictorOptions {
        device: Device::Cpu,
        ..PredictorOptions::default()
    };
    if let Ok(predictor) = Predictor::from_model_bytes(bytes.to_vec(), "fuzz input", &options) {
        // A model may compute anything, NaN included; it must not crash the process.
        let _ = predictor.predict(&[&GRAPH]);
    }
});
