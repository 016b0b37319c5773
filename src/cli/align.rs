//! `slfsim align`: one TX/RX pair, one method, measured before and after.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use slfsim::align::{align, AlignInputs, FreezeSide, MapKind, Method};
use slfsim::report::{line_chart, text_table, write_json_atomic, Series};
use slfsim::transceiver::{load_checkpoint, local_data, test_batch};

use super::{load_scenario, Ctx, Paths};

#[derive(Debug, Clone, Copy, ValueEnum)]
enum MethodArg {
    None,
    Slf,
    EncoderOnly,
    SplitLearning,
    Retrain,
    LatentMap,
    IndexMap,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum MapArg {
    Linear,
    Affine,
    Procrustes,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum SideArg {
    Output,
    Input,
}

#[derive(Args, Debug)]
pub struct AlignArgs {
    scenario: PathBuf,
    /// Transmitter profile.
    #[arg(long)]
    tx: String,
    /// Receiver profile.
    #[arg(long)]
    rx: String,
    #[arg(long, value_enum, default_value = "slf")]
    method: MethodArg,
    /// ℓ: decoder layers frozen (slf only).
    #[arg(long, default_value_t = 0)]
    freeze: usize,
    /// Which end of the decoder is frozen (slf only).
    #[arg(long, value_enum, default_value = "output")]
    side: SideArg,
    /// latent-map, index-map: pilot images both ends encode (the last P of TX's test split).
    #[arg(long, default_value_t = 64)]
    pilots: usize,
    /// latent-map: the map fitted from TX's codewords to RX's latents.
    #[arg(long, value_enum, default_value = "procrustes")]
    map: MapArg,
    /// encoder-only: also fine-tune (and upload) the codebook.
    #[arg(long)]
    codebook: bool,
    /// Fine-tuning steps (default: the scenario's align.budget.steps).
    #[arg(long)]
    steps: Option<usize>,
    /// Stop early once the headline accuracy reaches this.
    #[arg(long)]
    target_accuracy: Option<f64>,
    /// Seed of the alignment's random streams (default: the scenario seed).
    #[arg(long)]
    seed: Option<u64>,
    /// Also write the JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
    #[command(flatten)]
    paths: Paths,
}

pub fn run(ctx: &Ctx, args: AlignArgs) -> Result<()> {
    let sc = load_scenario(&args.scenario)?;
    let find = |name: &str| {
        sc.profile(name).with_context(|| format!("{}: no profile named {name:?}", args.scenario.display()))
    };
    let (ptx, prx) = (find(&args.tx)?, find(&args.rx)?);
    anyhow::ensure!(
        ptx.image_channels() == prx.image_channels() && ptx.model.latent_dim == prx.model.latent_dim,
        "profiles {} and {} have different image channels or latent sizes; they cannot be paired",
        ptx.name,
        prx.name
    );
    let method = match args.method {
        MethodArg::None => Method::None,
        MethodArg::Slf => Method::Slf {
            freeze: args.freeze,
            side: match args.side {
                SideArg::Output => FreezeSide::Output,
                SideArg::Input => FreezeSide::Input,
            },
        },
        MethodArg::EncoderOnly => Method::EncoderOnly { codebook: args.codebook },
        MethodArg::SplitLearning => Method::SplitLearning,
        MethodArg::Retrain => Method::Retrain,
        MethodArg::LatentMap => Method::LatentMap {
            pilots: args.pilots,
            map: match args.map {
                MapArg::Linear => MapKind::Linear,
                MapArg::Affine => MapKind::Affine,
                MapArg::Procrustes => MapKind::Procrustes,
            },
        },
        MethodArg::IndexMap => Method::IndexMap { pilots: args.pilots },
    };
    method.validate(prx.model.decoder_layers()).map_err(|e| anyhow::anyhow!("--{e}"))?;
    let mut budget = {
        let mut sc = sc.clone();
        super::override_steps(&mut sc, args.steps)?;
        sc.align.budget
    };
    if args.target_accuracy.is_some() {
        budget.target_accuracy = args.target_accuracy;
    }
    let out = args.paths.out(&sc)?;
    let models_dir = args.paths.models(&sc);
    let data_dir = ctx.data_dir()?;
    let (tx, _) = load_checkpoint(&models_dir, ptx)?;
    let (rx, _) = load_checkpoint(&models_dir, prx)?;
    let (local, _, _) = local_data(ptx, &data_dir)?;
    let test = test_batch(ptx, &data_dir, sc.eval.test_images)?;
    let inputs = AlignInputs { local_images: &local, test: &test, data_dir: &data_dir };
    let (res, _) = align(&tx, &rx, &method, &budget, &sc.align.cost, &inputs, args.seed.unwrap_or(sc.seed))?;

    let stem = format!("align_{}_{}_{}", res.tx, res.rx, res.method);
    let path = out.join(format!("{stem}.json"));
    Paths::claim(&out)?;
    write_json_atomic(&path, &res)?;
    if let Some(p) = &args.json {
        write_json_atomic(p, &res)?;
    }
    let row = |name: &str, j: &slfsim::align::Judged| {
        vec![
            name.to_string(),
            format!("{:.3}", j.accuracy_rx),
            format!("{:.3}", j.accuracy_tx),
            format!("{:.4}", j.mse),
            format!("{:.1}", j.psnr_db),
        ]
    };
    print!(
        "{}",
        text_table(
            &["", "acc (RX clf)", "acc (TX clf)", "mse", "psnr dB"],
            &[row("before", &res.before), row("after", &res.after), row("matched", &res.matched)]
        )
    );
    println!(
        "{} {} -> {}: {} steps, download {} B, upload {} B, {:.3e} FLOPs; recovery {:.2} s = {:.2} download + {:.2} compute + {:.2} upload (headline judge: {:?})",
        res.method, res.tx, res.rx, res.steps, res.download_bytes, res.upload_bytes, res.finetune_flops as f64,
        res.recovery_time_s, res.download_s, res.compute_s, res.upload_s, res.headline
    );
    match res.gap_recovered {
        Some(g) => {
            println!("gap recovered: {:.1}% of the matched link's (after − before) / (matched − before)", 100.0 * g)
        }
        None => println!("gap recovered: n/a (the matched link is no better than before)"),
    }
    println!("results: {}", path.display());
    if res.curve.len() > 1 {
        let pts =
            |f: &dyn Fn(&slfsim::align::CurvePoint) -> f64| res.curve.iter().map(|c| (c.step as f64, f(c))).collect();
        let series = vec![
            Series { name: "accuracy (RX classifier)".into(), points: pts(&|c| c.accuracy_rx), band: None },
            Series { name: "accuracy (TX classifier)".into(), points: pts(&|c| c.accuracy_tx), band: None },
        ];
        for p in line_chart(
            &out.join(format!("{stem}_curve")),
            &format!("{}: {} -> {}", res.method, res.tx, res.rx),
            "fine-tuning step",
            "accuracy",
            &series,
            false,
        )? {
            println!("plot: {}", p.display());
        }
    }
    Ok(())
}
