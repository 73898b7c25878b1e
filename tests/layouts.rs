//! Data sets as they are downloaded: small replicas of each layout, built
//! here from the demo voices in `audio-samples/digits/` with each layout's
//! folder structure and file naming, read by discovery (classes, groups,
//! splits, exclusions) and by `pipeline init` followed by `pipeline run`.
//!
//! Every replica has three classes (digits 0, 1, 2 under the layout's own
//! class names) spoken by four voices, two takes each.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use cochlea_pipeline::Config;
use cochlea_pipeline::dataset::{Dataset, Part, discover};

const VOICES: [&str; 4] = ["carf1", "f2", "m1", "usm2"];
const WORDS: [&str; 3] = ["zero", "one", "two"];
const TAKES: [usize; 2] = [1, 2];

fn demo(digit: usize, voice: &str, take: usize) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../audio-samples/digits")
        .join(digit.to_string())
        .join(format!("{digit}_{voice}_{take:02}.wav"))
}

/// Copies a demo recording to `root/rel`, making its folders.
fn put(root: &Path, rel: &str, digit: usize, voice: &str, take: usize) {
    let to = root.join(rel);
    std::fs::create_dir_all(to.parent().unwrap()).unwrap();
    std::fs::copy(demo(digit, voice, take), &to).unwrap();
}

fn write(root: &Path, rel: &str, text: &str) {
    let to = root.join(rel);
    std::fs::create_dir_all(to.parent().unwrap()).unwrap();
    std::fs::write(to, text).unwrap();
}

/// Every (digit, voice index, take).
fn clips() -> Vec<(usize, usize, usize)> {
    let mut v = Vec::new();
    for d in 0..WORDS.len() {
        for s in 0..VOICES.len() {
            for t in TAKES {
                v.push((d, s, t));
            }
        }
    }
    v
}

/// Speech Commands: `<word>/<speaker>_nohash_<n>.wav`, the lists, and
/// `_background_noise_/` with a recording and a README.
fn speech_commands(root: &Path) {
    let (mut val, mut test) = (String::new(), String::new());
    for (d, s, t) in clips() {
        let rel = format!("{}/{}_nohash_{}.wav", WORDS[d], VOICES[s], t - 1);
        put(root, &rel, d, VOICES[s], t);
        match s {
            2 => val.push_str(&format!("{rel}\n")),
            3 => test.push_str(&format!("{rel}\n")),
            _ => {}
        }
    }
    write(root, "validation_list.txt", &val);
    write(root, "testing_list.txt", &test);
    put(root, "_background_noise_/white_noise.wav", 5, "f4", 1);
    write(root, "_background_noise_/README.md", "noise\n");
}

/// Split folder of a voice: two train voices, one validation, one test.
fn split_of(s: usize) -> &'static str {
    ["train", "train", "validation", "test"][s]
}

/// Hugging Face audiofolder: `metadata.csv` at the top, `file_name`
/// relative to it, the split from the top folder.
fn audiofolder_csv(root: &Path) {
    let mut meta = String::from("file_name,label,speaker\n");
    for (d, s, t) in clips() {
        let rel = format!("{}/{}_{}_{t}.wav", split_of(s), WORDS[d], VOICES[s]);
        put(root, &rel, d, VOICES[s], t);
        meta.push_str(&format!("{rel},{},{}\n", WORDS[d], VOICES[s]));
    }
    write(root, "metadata.csv", &meta);
}

/// Hugging Face audiofolder with `metadata.jsonl` in each split folder.
fn audiofolder_jsonl(root: &Path) {
    let mut metas: BTreeMap<&str, String> = BTreeMap::new();
    for (d, s, t) in clips() {
        let name = format!("{}_{t}.wav", VOICES[s]);
        let split = split_of(s);
        put(
            root,
            &format!("{split}/{}/{name}", WORDS[d]),
            d,
            VOICES[s],
            t,
        );
        metas.entry(split).or_default().push_str(&format!(
            "{{\"file_name\": \"{}/{name}\", \"label\": \"{}\"}}\n",
            WORDS[d], WORDS[d]
        ));
    }
    for (split, text) in metas {
        write(root, &format!("{split}/metadata.jsonl"), &text);
    }
}

/// A folder per label under `train/` and `test/`.
fn train_test(root: &Path) {
    for (d, s, t) in clips() {
        let split = if s == 3 { "test" } else { "train" };
        let rel = format!("{split}/{}/{}_{t}.wav", WORDS[d], VOICES[s]);
        put(root, &rel, d, VOICES[s], t);
    }
}

/// ESC-50: `audio/<fold>-<source>-<take>-<target>.wav` and `meta/esc50.csv`;
/// the fold is the voice (1 to 4).
fn esc50(root: &Path) {
    let mut meta = String::from("filename,fold,target,category,esc10,src_file,take\n");
    for (d, s, t) in clips() {
        let take = ["A", "B"][t - 1];
        let name = format!("{}-{}{d}-{take}-{d}.wav", s + 1, 100 + s);
        put(root, &format!("audio/{name}"), d, VOICES[s], t);
        meta.push_str(&format!(
            "{name},{},{d},{},False,{}{d},{take}\n",
            s + 1,
            WORDS[d],
            100 + s
        ));
    }
    write(root, "meta/esc50.csv", &meta);
}

/// UrbanSound8K: `audio/fold<N>/<fsID>-<classID>-<occurrence>-<slice>.wav`
/// and `metadata/UrbanSound8K.csv`.
fn urbansound8k(root: &Path) {
    let mut meta = String::from("slice_file_name,fsID,start,end,salience,fold,classID,class\n");
    for (d, s, t) in clips() {
        let fs_id = 1000 + s;
        let name = format!("{fs_id}-{d}-0-{t}.wav");
        let fold = s + 1;
        put(root, &format!("audio/fold{fold}/{name}"), d, VOICES[s], t);
        meta.push_str(&format!(
            "{name},{fs_id},0.0,0.5,1,{fold},{d},{}\n",
            WORDS[d]
        ));
    }
    write(root, "metadata/UrbanSound8K.csv", &meta);
}

/// Loads `[data]` text written into `dir` and discovers the data set.
fn load(dir: &Path, data: &str) -> Result<Dataset, String> {
    let path = dir.join("layout.toml");
    std::fs::write(&path, format!("[data]\n{data}\n")).unwrap();
    let cfg = Config::load(&path).map_err(|e| e.to_string())?;
    discover(&cfg.data).map_err(|e| e.to_string())
}

fn groups(ds: &Dataset) -> BTreeSet<String> {
    ds.items.iter().map(|i| i.group.clone()).collect()
}

/// Group of each split part.
fn groups_by_part(ds: &Dataset) -> BTreeMap<Option<Part>, BTreeSet<String>> {
    let mut m: BTreeMap<Option<Part>, BTreeSet<String>> = BTreeMap::new();
    for i in &ds.items {
        m.entry(i.split).or_default().insert(i.group.clone());
    }
    m
}

fn set(v: &[&str]) -> BTreeSet<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn words() -> Vec<String> {
    let mut w: Vec<String> = WORDS.map(String::from).to_vec();
    w.sort();
    w
}

#[test]
fn speech_commands_lists_speakers_and_background_noise() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("speech_commands_v0.02");
    speech_commands(&root);
    let ds = load(
        tmp.path(),
        "root = \"speech_commands_v0.02\"\nlayout = \"speech-commands\"",
    )
    .unwrap();
    assert_eq!(ds.classes, words(), "_background_noise_ is no class");
    assert_eq!(ds.items.len(), 24);
    assert!(
        ds.items
            .iter()
            .all(|i| !i.path.to_string_lossy().contains("_background_noise_"))
    );
    assert_eq!(groups(&ds), set(&VOICES));
    let parts = groups_by_part(&ds);
    assert_eq!(parts[&Some(Part::Train)], set(&VOICES[..2]));
    assert_eq!(parts[&Some(Part::Val)], set(&[VOICES[2]]));
    assert_eq!(parts[&Some(Part::Test)], set(&[VOICES[3]]));
    let noise = cochlea_pipeline::layouts::background_noise(&root, &["wav".to_string()]);
    assert_eq!(noise.len(), 1);
    // A subset of the words, and the lists still hold.
    let ds = load(
        tmp.path(),
        "root = \"speech_commands_v0.02\"\nlayout = \"speech-commands\"\ninclude_classes = [\"one\", \"two\"]",
    )
    .unwrap();
    assert_eq!(ds.classes, ["one", "two"]);
    assert_eq!(ds.items.len(), 16);
    let err = load(
        tmp.path(),
        "root = \"speech_commands_v0.02\"\nlayout = \"speech-commands\"\ninclude_classes = [\"three\"]",
    )
    .unwrap_err();
    assert!(
        err.contains("include_classes") && err.contains("\"three\""),
        "{err}"
    );
}

#[test]
fn audiofolder_metadata_csv_and_jsonl() {
    let tmp = tempfile::tempdir().unwrap();
    audiofolder_csv(&tmp.path().join("csv"));
    audiofolder_jsonl(&tmp.path().join("jsonl"));
    for (name, group) in [("csv", "group_column = \"speaker\""), ("jsonl", "")] {
        let ds = load(
            tmp.path(),
            &format!("root = \"{name}\"\nlayout = \"audiofolder\"\n{group}"),
        )
        .unwrap();
        assert_eq!(ds.classes, words(), "{name}");
        assert_eq!(ds.items.len(), 24, "{name}");
        for i in &ds.items {
            let top = i.path.strip_prefix(tmp.path().join(name)).unwrap();
            let top = top.iter().next().unwrap().to_string_lossy().into_owned();
            assert_eq!(i.split, Part::parse(&top), "{name} {}", i.path.display());
            let file = i.path.to_string_lossy().into_owned();
            assert!(file.contains(&ds.classes[i.label]), "{name} {file}");
        }
        if name == "csv" {
            assert_eq!(groups(&ds), set(&VOICES), "the group column");
        }
    }
}

#[test]
fn folders_per_label_under_train_and_test() {
    let tmp = tempfile::tempdir().unwrap();
    train_test(&tmp.path().join("data"));
    let ds = load(
        tmp.path(),
        "root = \"data\"\nlayout = \"audiofolder\"\ngroup = { regex = '^([a-z0-9]+)_' }",
    )
    .unwrap();
    assert_eq!(ds.classes, words());
    let parts = groups_by_part(&ds);
    assert_eq!(parts[&Some(Part::Test)], set(&[VOICES[3]]));
    assert_eq!(parts[&Some(Part::Train)], set(&VOICES[..3]));
    assert_eq!(parts.len(), 2);
}

#[test]
fn esc50_and_urbansound8k_folds_are_the_groups() {
    let tmp = tempfile::tempdir().unwrap();
    esc50(&tmp.path().join("ESC-50-master"));
    urbansound8k(&tmp.path().join("UrbanSound8K"));
    for (root, layout) in [("ESC-50-master", "esc50"), ("UrbanSound8K", "urbansound8k")] {
        let ds = load(
            tmp.path(),
            &format!("root = \"{root}\"\nlayout = \"{layout}\""),
        )
        .unwrap();
        assert_eq!(ds.classes, words(), "{layout}");
        assert_eq!(ds.items.len(), 24, "{layout}");
        assert_eq!(groups(&ds), set(&["1", "2", "3", "4"]), "{layout}");
        assert!(ds.items.iter().all(|i| i.split.is_none()), "{layout}");
    }
    // Another label column: the class numbers.
    let ds = load(
        tmp.path(),
        "root = \"ESC-50-master\"\nlayout = \"esc50\"\nlabel_column = \"target\"",
    )
    .unwrap();
    assert_eq!(ds.classes, ["0", "1", "2"]);
    // A file the table lists but the disk lacks is skipped, by name.
    let gone = tmp.path().join("UrbanSound8K/audio/fold1/1000-0-0-1.wav");
    std::fs::remove_file(&gone).unwrap();
    let ds = load(
        tmp.path(),
        "root = \"UrbanSound8K\"\nlayout = \"urbansound8k\"",
    )
    .unwrap();
    assert_eq!(ds.items.len(), 23);
    assert!(
        ds.skipped
            .iter()
            .any(|(p, why)| *p == gone && why.contains("missing"))
    );
    // The table's place is named when it is not there.
    let err = load(tmp.path(), "root = \"UrbanSound8K\"\nlayout = \"esc50\"").unwrap_err();
    assert!(err.contains("meta/esc50.csv"), "{err}");
}

#[test]
fn manifest_columns_split_values_regexes_and_excludes() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("clips");
    let mut csv = String::from("speaker,file,emotion,subset\n");
    for (n, (d, s, t)) in clips().into_iter().enumerate() {
        let rel = format!("{}/take{t}/{}_{t}.wav", VOICES[s], WORDS[d]);
        put(&root, &rel, d, VOICES[s], t);
        // Half the paths absolute, half relative to the manifest.
        let path = if n % 2 == 0 {
            root.join(&rel).display().to_string()
        } else {
            rel
        };
        let subset = ["train", "Train", "dev", "test"][s];
        csv.push_str(&format!("{},{path},{},{subset}\n", VOICES[s], WORDS[d]));
    }
    write(&root, "clips.csv", &csv);
    let base = "root = \"clips\"\nmanifest = \"clips/clips.csv\"\npath_column = \"file\"\n\
                label_column = \"emotion\"\nsplit_column = \"subset\"\nlabel = \"manifest\"";
    let ds = load(
        tmp.path(),
        &format!("{base}\ngroup = {{ regex = '^([^/]+)/' }}"),
    )
    .unwrap();
    assert_eq!(ds.classes, words());
    assert_eq!(ds.items.len(), 24);
    let parts = groups_by_part(&ds);
    assert_eq!(parts[&Some(Part::Train)], set(&VOICES[..2]));
    assert_eq!(
        parts[&Some(Part::Val)],
        set(&[VOICES[2]]),
        "dev is validation"
    );
    assert_eq!(parts[&Some(Part::Test)], set(&[VOICES[3]]));
    // Excludes: a folder anywhere, and a path glob.
    let ds = load(
        tmp.path(),
        &format!("{base}\nexclude = [\"take2\", \"{}/**\"]", VOICES[0]),
    )
    .unwrap();
    assert_eq!(ds.items.len(), 9);
    assert!(ds.items.iter().all(|i| {
        let p = i.path.to_string_lossy();
        !p.contains("take2") && !p.contains(&format!("/{}/", VOICES[0]))
    }));
    // A split value the reader does not know is named with its row.
    write(&root, "clips.csv", &csv.replacen(",dev\n", ",holdout\n", 1));
    let err = load(tmp.path(), base).unwrap_err();
    assert!(err.contains("holdout") && err.contains("row"), "{err}");
    // A missing column is named, with the columns there are.
    let err = load(tmp.path(), &base.replace("emotion", "mood")).unwrap_err();
    assert!(
        err.contains("`mood`") && err.contains("label_column"),
        "{err}"
    );
}

#[test]
fn a_regex_on_the_relative_path_and_old_file_name_regexes() {
    let tmp = tempfile::tempdir().unwrap();
    train_test(&tmp.path().join("data"));
    // The top folder, which no file name holds.
    let ds = load(
        tmp.path(),
        "root = \"data\"\nlabel = { regex = '^([a-z]+)/' }",
    )
    .unwrap();
    assert_eq!(ds.classes, ["test", "train"]);
    // A regex anchored at the file name start keeps its meaning.
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../audio-samples/digits");
    let ds = load(
        tmp.path(),
        &format!(
            "root = {:?}\ngroup = {{ regex = '^\\d_([a-z0-9]+)_' }}",
            demo.display().to_string()
        ),
    )
    .unwrap();
    assert_eq!(ds.classes.len(), 10);
    assert_eq!(groups(&ds).len(), 10);
    assert!(groups(&ds).contains("carf1"));
}

fn pipeline(args: &[&str], cache: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_pipeline"))
        .args(args)
        .env("COCHLEA_CACHE_DIR", cache)
        .output()
        .expect("pipeline starts")
}

fn ok(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn init_detects_each_layout_and_its_config_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    type Make = fn(&Path);
    let cases: [(&str, Make, &str, &str); 5] = [
        ("speech", speech_commands, "speech-commands", "predefined"),
        ("hf", audiofolder_csv, "audiofolder", "predefined"),
        ("tt", train_test, "audiofolder", "predefined"),
        ("esc", esc50, "esc50", "leave-one-group-out"),
        ("us8k", urbansound8k, "urbansound8k", "leave-one-group-out"),
    ];
    let epochs = regex::Regex::new(r"(?m)^epochs = \d+$").unwrap();
    for (name, make, layout, strategy) in cases {
        let root = tmp.path().join(name);
        make(&root);
        let cfg = tmp.path().join(format!("{name}.toml"));
        ok(&pipeline(
            &[
                "init",
                root.to_str().unwrap(),
                "--out",
                cfg.to_str().unwrap(),
            ],
            &cache,
        ));
        let text = std::fs::read_to_string(&cfg).unwrap();
        assert!(
            text.contains(&format!("layout = \"{layout}\"")),
            "{name}:\n{text}"
        );
        assert!(
            text.contains(&format!("strategy = \"{strategy}\"")),
            "{name}:\n{text}"
        );
        assert!(text.contains("3 classes"), "{name}:\n{text}");
        // Speech Commands' _background_noise_ is mixed into training clips;
        // no other layout gets a noise folder.
        assert_eq!(
            text.contains("background_noise_dir = \"speech/_background_noise_\""),
            name == "speech",
            "{name}:\n{text}"
        );
        // One short epoch: the config is accepted and trains. (Four groups
        // are few: init writes fixed epochs and no validation group.)
        assert!(epochs.is_match(&text), "{name}:\n{text}");
        std::fs::write(&cfg, epochs.replace(&text, "epochs = 1").as_ref()).unwrap();
        ok(&pipeline(&["run", "-q", cfg.to_str().unwrap()], &cache));
    }
}

#[test]
fn bad_data_keys_are_named() {
    let tmp = tempfile::tempdir().unwrap();
    train_test(&tmp.path().join("data"));
    write(tmp.path(), "m.csv", "path,label\n");
    for (data, key) in [
        (
            "root = \"data\"\nlayout = \"audiofolder\"\nmanifest = \"m.csv\"",
            "data.manifest",
        ),
        ("root = \"data\"\nexclude = [\"a/***\"]", "data.exclude"),
        ("root = \"data\"\nlabel_column = \" \"", "data.label_column"),
        (
            "root = \"data\"\ninclude_classes = [\"\"]",
            "data.include_classes",
        ),
        (
            "root = \"data\"\nlayout = \"speech-commands\"",
            "validation_list.txt",
        ),
        ("root = \"data\"\nlayout = \"wav-folders\"", "layout"),
    ] {
        let err = load(tmp.path(), data).unwrap_err();
        assert!(err.contains(key), "{data}: {err}");
    }
}
