//! Every check `doctor` knows, in one table: its id, the verdict it gives
//! when it fires, its ranking weight, what it looks for, when it fires and
//! the fix. A finding is made from a [`Check`] (`Check::LrTooHigh.fail(..)`),
//! so an id, a weight or a fix cannot drift between two call sites, and
//! `docs/diagnostics.md` is tested against this table.

use super::{Finding, Verdict};

/// One check of `doctor`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Check {
    /// `result.chance`
    ResultChance,
    /// `result.collapse`
    ResultCollapse,
    /// `optimization.stuck_loss`
    StuckLoss,
    /// `optimization.lr_too_high`
    LrTooHigh,
    /// `optimization.lr_too_low`
    LrTooLow,
    /// `optimization.learning_rate`
    LearningRate,
    /// `optimization.cannot_overfit`
    CannotOverfit,
    /// `labels.no_signal`
    NoSignal,
    /// `labels.memorized`
    Memorized,
    /// `labels.source`
    LabelSource,
    /// `representation.raw_samples`
    RawSamples,
    /// `representation.no_information`
    NoInformation,
    /// `scaling.unnormalized`
    Unnormalized,
    /// `scaling.constant_features`
    ConstantFeatures,
    /// `scaling.non_finite`
    NonFinite,
    /// `leakage.duplicate_audio`
    DuplicateAudio,
    /// `leakage.group`
    GroupLeak,
    /// `leakage.near_duplicate`
    NearDuplicate,
    /// `leakage.normalizer`
    Normalizer,
    /// `architecture.pooling`
    Pooling,
    /// `architecture.receptive_field`
    ReceptiveField,
    /// `architecture.parameters`
    Parameters,
    /// `fit.overfitting`
    Overfitting,
    /// `fit.underfitting`
    Underfitting,
    /// `data.imbalance`
    Imbalance,
    /// `data.few_examples`
    FewExamples,
    /// `data.mixed_formats`
    MixedFormats,
    /// `data.duration_shortcut`
    DurationShortcut,
    /// `data.silence_clipping`
    SilenceClipping,
    /// `events.no_background`
    EventsNoBackground,
}

/// A check's row of the catalog.
#[derive(Clone, Copy, Debug)]
pub struct CheckInfo {
    /// Stable id, e.g. `leakage.group`; `metrics.json` and reports carry it.
    pub id: &'static str,
    /// The verdict when the check fires (`Ok` for checks that only confirm).
    pub verdict: Verdict,
    /// Ranking weight: how likely the check explains a bad result (higher
    /// first, within a verdict).
    pub weight: f64,
    /// What the check looks at, in a few words.
    pub about: &'static str,
    /// The statistic and the threshold at which it fires.
    pub fires_when: &'static str,
    /// The fix, in one sentence (empty for confirmations).
    pub fix: &'static str,
}

const fn row(
    id: &'static str,
    verdict: Verdict,
    weight: f64,
    about: &'static str,
    fires_when: &'static str,
    fix: &'static str,
) -> CheckInfo {
    CheckInfo {
        id,
        verdict,
        weight,
        about,
        fires_when,
        fix,
    }
}

use Verdict::{Fail, Ok, Warn};

/// The catalog, in the order of [`Check::ALL`].
const TABLE: [CheckInfo; Check::ALL.len()] = [
    row(
        "result.chance",
        Fail,
        1.0,
        "test accuracy against chance and the majority class",
        "the 95 % interval of test accuracy lies below chance + ¼·(1 − chance), chance being the larger of 1/k and the majority class (2 balanced classes: 62.5 %, 10: 32.5 %, 50: 26.5 %); inconclusive when it straddles that and chance",
        "Read the findings below: the first failing one is the most likely cause.",
    ),
    row(
        "result.collapse",
        Fail,
        8.0,
        "predictions piled onto one class",
        "the 95 % lower bound of the top predicted class's share exceeds the largest true share + 30 points, capped at 80 %; the same for the top two where the two largest true classes hold under 70 % (2 balanced classes: top over 80 %; 10: top over 40 % or top two over 50 %; 50: 32 % or 34 %)",
        "Normalize the features, lower the learning rate, and check the labels; \
         a collapsed model learnt only the class prior.",
    ),
    row(
        "optimization.stuck_loss",
        Fail,
        8.5,
        "final training loss against ln(number of classes)",
        "final training loss above 0.9·ln(k) (2 classes: 0.62, 10: 2.07, 50: 3.52)",
        "The model learns nothing: check normalization and labels, then try a learning rate \
         10x lower and 10x higher.",
    ),
    row(
        "optimization.lr_too_high",
        Fail,
        8.6,
        "training loss rising or diverging",
        "the loss rises 10 % over 3 or more epochs, is not finite, or a sweep epoch sits above 1.5·ln(k) (2 classes: 1.04, 10: 3.45, 50: 5.87)",
        "Lower train.lr by 10x (and keep gradient clipping on).",
    ),
    row(
        "optimization.lr_too_low",
        Warn,
        5.5,
        "training loss hardly moving in the sweep",
        "the sweep's loss at the configured rate falls under 3 % in 4 epochs (more on small data, so at least 40 steps)",
        "Raise train.lr (try 10x; 1e-3 suits Adam) or train for more epochs.",
    ),
    row(
        "optimization.learning_rate",
        Ok,
        0.0,
        "the configured learning rate in the sweep",
        "the sweep's loss at the configured rate falls (confirmation only)",
        "",
    ),
    row(
        "optimization.cannot_overfit",
        Fail,
        8.0,
        "the network memorising one batch",
        "the network cannot memorise one batch",
        "Fix the model or the learning rate before the data: a healthy network memorises one \
         small batch.",
    ),
    row(
        "labels.no_signal",
        Fail,
        9.5,
        "a linear probe on healthy features",
        "a linear probe on healthy features, scored on every held-out file, has its 95 % interval below chance + ¼·(1 − chance) (2 balanced classes: 62.5 %, 10: 32.5 %, 50: 26.5 %); inconclusive when the interval straddles that and chance",
        "Check that the label source picks the class (data.label regex, folder, manifest rows \
         in the right order) and that files were not renamed or shuffled.",
    ),
    row(
        "labels.memorized",
        Fail,
        9.0,
        "training accuracy against validation accuracy",
        "training accuracy over 90 % while the best validation accuracy's 95 % interval lies below chance + ¼·(1 − chance) (2 classes: 62.5 %, 10: 32.5 %, 50: 26.5 %); inconclusive when it straddles that and chance",
        "The model memorises labels that do not follow the sound: check that labels match the \
         files (regex, manifest order).",
    ),
    row(
        "labels.source",
        Fail,
        7.0,
        "whether the label source looks like a class",
        "more than half as many classes as files (fail), or every group has one label (warn)",
        "Fix data.label so it captures the class (e.g. '^(\\d)_' for 7_jackson_3.wav), not a \
         take number, the speaker or the whole name.",
    ),
    row(
        "representation.raw_samples",
        Warn,
        5.0,
        "raw waveform input",
        "`kinds = [\"raw\"]`",
        "Use kinds = [\"mfcc\"] (or \"logmel\"): a small 1D CNN learns far better from spectral \
         features than from raw waveforms.",
    ),
    row(
        "representation.no_information",
        Fail,
        7.0,
        "a linear probe on unhealthy features",
        "the linear probe is at chance (as for `labels.no_signal`) and the features are unhealthy",
        "The features carry no class information as configured: use MFCC or log-mel features \
         with a sensible fmin/fmax and normalization.",
    ),
    row(
        "scaling.unnormalized",
        Fail,
        6.5,
        "feature scales without normalization",
        "`normalize.method = \"none\"` and row scales differ over 100-fold",
        "Set [normalize] method = \"standard\" (fitted on the training split) so no feature \
         drowns the others.",
    ),
    row(
        "scaling.constant_features",
        Warn,
        1.5,
        "feature rows without variation",
        "feature rows constant over the training set",
        "Drop these rows or check the feature settings (e.g. fmax, n_mels): they carry no \
         information.",
    ),
    row(
        "scaling.non_finite",
        Warn,
        2.0,
        "NaN or infinite samples",
        "NaN or infinite samples were replaced",
        "Fix the files that hold NaN or infinite samples (float WAVs written by a buggy tool).",
    ),
    row(
        "leakage.duplicate_audio",
        Fail,
        6.0,
        "identical decoded audio across the split",
        "identical decoded audio in train and test",
        "Remove duplicate recordings before splitting (or group them), so the test set measures \
         generalisation, not memory.",
    ),
    row(
        "leakage.group",
        Warn,
        3.5,
        "groups on both sides of the split",
        "a group (speaker) in train and test of a non-group split",
        "Use split.strategy = \"group\" (or group-kfold / leave-one-group-out) so the test \
         measures unseen speakers or sources.",
    ),
    row(
        "leakage.near_duplicate",
        Warn,
        4.0,
        "near-identical feature fingerprints across the split",
        "test clips whose feature fingerprint matches a training clip",
        "Look for the same recording saved twice (re-encoded or renamed) and keep copies on one \
         side of the split.",
    ),
    row(
        "leakage.normalizer",
        Ok,
        0.0,
        "where the normalization statistics came from",
        "normalization fitted on the training split only (by construction)",
        "",
    ),
    row(
        "architecture.pooling",
        Warn,
        4.5,
        "frames left before the head",
        "at most 2 frames reach the head from 16 or more",
        "Use less pooling (pool = 1 or 2 in fewer blocks) so the order of events in time \
         survives to the head.",
    ),
    row(
        "architecture.receptive_field",
        Warn,
        2.0,
        "receptive field against the clip length",
        "the receptive field covers under a tenth of a clip",
        "Add a block, larger kernels or dilation so a unit sees a whole event.",
    ),
    row(
        "architecture.parameters",
        Warn,
        1.5,
        "parameters against training clips",
        "over 1000 parameters per training clip",
        "Use fewer filters or blocks, or more data and augmentation.",
    ),
    row(
        "fit.overfitting",
        Warn,
        3.0,
        "training against validation accuracy",
        "training accuracy exceeds the best validation by over 30 points and the validation's 95 % upper bound",
        "Add augmentation, dropout or weight decay, or use a smaller network; check that \
         validation groups are like test groups.",
    ),
    row(
        "fit.underfitting",
        Warn,
        3.0,
        "training and validation accuracy both low",
        "training and best validation accuracy both under chance + ½·(1 − chance) (2 classes: 75 %, 10: 55 %, 50: 51 %)",
        "Train longer, raise the learning rate, or use a larger network.",
    ),
    row(
        "data.imbalance",
        Warn,
        3.0,
        "class sizes",
        "largest/smallest class over 3 with class weights off",
        "Set [train] class_weights = \"balanced\" and judge by balanced accuracy.",
    ),
    row(
        "data.few_examples",
        Warn,
        4.0,
        "files per class",
        "a class with fewer than 10 files",
        "Collect more examples of these classes or merge them; fewer than 10 cannot be split and \
         learnt reliably.",
    ),
    row(
        "data.mixed_formats",
        Fail,
        6.0,
        "file formats as a class predictor",
        "files mix formats (rate, channels, container) and the format alone predicts the class: the 95 % lower bound of its leave-one-out accuracy exceeds majority + ¼·(1 − majority) (2 balanced classes: 62.5 %, 10: 32.5 %, 50: 26.5 %)",
        "Convert every file to one format and make sure recording conditions do not differ by \
         class: the model can learn the format instead of the sound, and the test score \
         overstates it.",
    ),
    row(
        "data.duration_shortcut",
        Warn,
        2.5,
        "clip duration as a class predictor",
        "the 95 % lower bound of a nearest-mean-duration classifier's accuracy exceeds majority + ½·(1 − majority) (2 balanced classes: 75 %, 10: 55 %, 50: 51 %)",
        "Trim silence, or crop/pad every clip to one length before features, so the model \
         learns the sound and not its length.",
    ),
    row(
        "data.silence_clipping",
        Warn,
        2.0,
        "silent and clipped clips",
        "over 5 % of clips mostly silent or clipped",
        "Listen to a few: remove empty recordings and re-record or drop clipped ones.",
    ),
    row(
        "events.no_background",
        Warn,
        2.0,
        "held-out recordings scored as events with no class for \"nothing here\"",
        "no class makes no events (such as `background`) and the detected events cover over twice the annotated time of the held-out recordings",
        "Give the model a class for the stretches between events: `data.background = true` \
         (the unannotated parts) or `data.background_dir` (a folder of negative recordings).",
    ),
];

impl Check {
    /// Every check, in catalog order.
    pub const ALL: [Check; 30] = [
        Check::ResultChance,
        Check::ResultCollapse,
        Check::StuckLoss,
        Check::LrTooHigh,
        Check::LrTooLow,
        Check::LearningRate,
        Check::CannotOverfit,
        Check::NoSignal,
        Check::Memorized,
        Check::LabelSource,
        Check::RawSamples,
        Check::NoInformation,
        Check::Unnormalized,
        Check::ConstantFeatures,
        Check::NonFinite,
        Check::DuplicateAudio,
        Check::GroupLeak,
        Check::NearDuplicate,
        Check::Normalizer,
        Check::Pooling,
        Check::ReceptiveField,
        Check::Parameters,
        Check::Overfitting,
        Check::Underfitting,
        Check::Imbalance,
        Check::FewExamples,
        Check::MixedFormats,
        Check::DurationShortcut,
        Check::SilenceClipping,
        Check::EventsNoBackground,
    ];

    /// The check's row of the catalog.
    pub fn info(self) -> &'static CheckInfo {
        &TABLE[self as usize]
    }

    /// The stable id, e.g. `leakage.group`.
    pub fn id(self) -> &'static str {
        self.info().id
    }

    /// The check whose id is `id`.
    pub fn from_id(id: &str) -> Option<Check> {
        Check::ALL.into_iter().find(|c| c.id() == id)
    }

    /// Whether a problem found by this check means the features themselves
    /// are unhealthy (so a probe at chance points at them, not the labels).
    pub fn concerns_features(self) -> bool {
        matches!(
            self,
            Check::RawSamples
                | Check::NoInformation
                | Check::Unnormalized
                | Check::ConstantFeatures
                | Check::NonFinite
        )
    }

    fn finding(self, verdict: Verdict, title: String, evidence: String) -> Finding {
        let info = self.info();
        let fired = verdict != Verdict::Ok;
        Finding {
            id: info.id.into(),
            verdict,
            title,
            evidence,
            fix: if fired {
                info.fix.into()
            } else {
                String::new()
            },
            weight: if fired { info.weight } else { 0.0 },
        }
    }

    /// The check failed: it explains a bad result.
    pub fn fail(self, title: impl Into<String>, evidence: impl Into<String>) -> Finding {
        self.finding(Verdict::Fail, title.into(), evidence.into())
    }

    /// The check found something suspicious.
    pub fn warn(self, title: impl Into<String>, evidence: impl Into<String>) -> Finding {
        self.finding(Verdict::Warn, title.into(), evidence.into())
    }

    /// The check could not decide on this much data; `advice` says what
    /// would settle it (and takes the place of the fix).
    pub fn inconclusive(
        self,
        title: impl Into<String>,
        evidence: impl Into<String>,
        advice: impl Into<String>,
    ) -> Finding {
        let mut f = self.finding(Verdict::Inconclusive, title.into(), evidence.into());
        f.fix = advice.into();
        f
    }

    /// The check passed.
    pub fn ok(self, title: impl Into<String>, evidence: impl Into<String>) -> Finding {
        self.finding(Verdict::Ok, title.into(), evidence.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_rows_follow_the_enum() {
        let mut ids = std::collections::HashSet::new();
        for (i, c) in Check::ALL.into_iter().enumerate() {
            assert_eq!(c as usize, i, "{c:?} is out of order in Check::ALL");
            assert!(ids.insert(c.id()), "{} twice", c.id());
            assert_eq!(Check::from_id(c.id()), Some(c));
            let info = c.info();
            assert_eq!(
                info.fix.is_empty(),
                info.verdict == Verdict::Ok,
                "{}",
                info.id
            );
            assert!(info.id.contains('.') && !info.fires_when.is_empty());
        }
    }
}
