use super::*;

const GOOD: &str = r#"
Scenario(
    name: "t",
    seed: 3,
    profiles: [
        (name: "a", data: (dataset: mnist, partition: iid(size: 100)), channel: (kind: index, epsilon: 0.1), seed: 1),
        (name: "b", data: (dataset: fashion_mnist), channel: (kind: bsc, epsilon: 0.0), seed: 2,
         train: (steps: 10), model: (codebook_size: 32)),
    ],
)
"#;

fn p() -> &'static Path {
    Path::new("x.ron")
}

#[test]
fn parses_a_good_scenario_with_defaults() {
    let sc = parse(GOOD, p()).unwrap();
    assert_eq!(sc.profiles.len(), 2);
    assert_eq!(sc.profiles[1].train.steps, 10);
    assert_eq!(sc.profiles[1].train.batch_size, 64);
    assert_eq!(sc.profiles[1].model.codebook_size, 32);
    assert_eq!(sc.profiles[0].model.latent_dim, 16);
    assert_eq!(sc.eval.test_images, 2000);
    assert_eq!(sc.models_dir, PathBuf::from("models"));
}

#[test]
fn syntax_error_names_file_line_and_column() {
    let bad = GOOD.replace("seed: 3,", "seed: 3,,");
    let e = parse(&bad, p()).unwrap_err().to_string();
    assert!(e.starts_with("x.ron:4:"), "{e}");
}

#[test]
fn unknown_field_and_unknown_dataset_are_rejected_with_position() {
    let e = parse(&GOOD.replace("seed: 1)", "seed: 1, colour: 3)"), p()).unwrap_err().to_string();
    assert!(e.starts_with("x.ron:6:") && e.contains("colour"), "{e}");
    let e = parse(&GOOD.replace("dataset: mnist", "dataset: svhn"), p()).unwrap_err().to_string();
    assert!(e.starts_with("x.ron:6:") && e.contains("svhn"), "{e}");
}

#[test]
fn rule_violations_name_the_field_path() {
    let cases = [
        (GOOD.replace("epsilon: 0.1", "epsilon: 1.5"), "profiles[0].channel.epsilon"),
        (GOOD.replace("epsilon: 0.1", "epsilon: -0.1"), "profiles[0].channel.epsilon"),
        (GOOD.replace("name: \"b\"", "name: \"a\""), "profiles[1].name"),
        (GOOD.replace("codebook_size: 32", "codebook_size: 48"), "profiles[1].model.codebook_size"),
        (GOOD.replace("iid(size: 100)", "iid(size: 0)"), "profiles[0].data.partition.size"),
        (GOOD.replace("iid(size: 100)", "dirichlet(alpha: 0.0, size: 10)"), "profiles[0].data.partition.alpha"),
        (GOOD.replace("name: \"t\"", "name: \"a/b\""), "name"),
    ];
    for (text, field) in cases {
        let e = parse(&text, p()).unwrap_err();
        match &e {
            ScenarioError::Invalid { field: f, .. } => assert_eq!(f, field, "{e}"),
            other => panic!("expected a rule violation at {field}, got {other}"),
        }
        assert!(e.to_string().starts_with(&format!("x.ron: {field}: ")), "{e}");
    }
}

fn ron_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            ron_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "ron") {
            out.push(path);
        }
    }
}

#[test]
fn shipped_scenarios_are_valid() {
    let mut files = Vec::new();
    ron_files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios"), &mut files);
    // Study files (scenarios/studies/*.ron with `Study(`) are planned by study::sweep's tests.
    files.retain(|f| !std::fs::read_to_string(f).unwrap().lines().any(|l| l.starts_with("Study(")));
    for f in &files {
        load(f).unwrap_or_else(|e| panic!("{e}"));
    }
    assert!(files.len() >= 3, "only {} scenarios found", files.len());
}

#[test]
fn two_user_and_align_sections_are_validated() {
    let with = |section: &str| {
        GOOD.replace(
            "    ],
)",
            &format!(
                "    ],
{section}
)"
            ),
        )
    };
    let ok = with(
        r#"two_user: (pairs: [(study: "s", tx: "a", rx: "b")], methods: [slf(freeze: 2, side: output), retrain])"#,
    );
    // a and b differ in codebook size: they cannot be paired.
    let e = parse(&ok, p()).unwrap_err().to_string();
    assert!(e.contains("two_user.pairs[0]") && e.contains("cannot be paired"), "{e}");
    let same = ok.replace("model: (codebook_size: 32)", "");
    let sc = parse(&same, p()).unwrap();
    assert_eq!(sc.two_user.methods.len(), 2);
    let e = parse(&same.replace("rx: \"b\"", "rx: \"zz\""), p()).unwrap_err().to_string();
    assert!(e.contains("two_user.pairs[0].rx") && e.contains("zz"), "{e}");
    let e = parse(&same.replace("freeze: 2", "freeze: 5"), p()).unwrap_err().to_string();
    assert!(e.contains("two_user.methods[0].freeze"), "{e}");
    let e = parse(&with("align: (cost: (up_bps: -1.0))"), p()).unwrap_err().to_string();
    assert!(e.contains("align.cost.up_bps"), "{e}");
}
