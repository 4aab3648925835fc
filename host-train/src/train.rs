//! The training model (libtorch via tch) and loop.
//!
//! The network is genre-core's: 2 stacked LSTM layers of `HIDDEN` units (PyTorch gate order
//! i, f, g, o; both `b_ih` and `b_hh`), run over one window of `WINDOW_FRAMES` z-scored frames
//! from a zero state, and a linear head on the mean of the top layer's hidden state over the
//! steps from `POOL_FROM` on (the engines' window readout). Regularisation: dropout between
//! the layers and before the head, AdamW weight decay, label smoothing, input noise, mixup of
//! windows, and the augmented copies (one drawn per window and epoch).

use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{bail, Result};
use genre_core::config::{
    FeatureFrame, CENTROID_OFFSET, CHROMA_OFFSET, CONTRAST_OFFSET, HIDDEN, MFCC_OFFSET, N_FEATURES,
    N_GENRES, N_LAYERS, POOL_FROM, WINDOW_FRAMES,
};
use indicatif::{ProgressBar, ProgressStyle};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use tch::{nn, Device, Kind, Tensor};

use crate::features::ClipFeatures;
use crate::teacher::DIM as EMBEDDING_DIM;

/// Set by the Ctrl-C handler: the current epoch finishes, then training stops.
pub static STOP: AtomicBool = AtomicBool::new(false);

/// Window stride for training and evaluation, in frames (half a window).
pub const STRIDE: usize = WINDOW_FRAMES / 2;

/// The least weight of a sound without music in the hard draws (`--no-music-hard`), in units
/// of its squared-hinge loss: a sound the model already gets right is still drawn now and then.
const HARDNESS_FLOOR: f64 = 0.01;

/// Hyper-parameters.
#[derive(Debug, Clone, Serialize)]
pub struct Hyper {
    /// Weight of the no-music terms (0: off): the largest logit of a music window is pushed
    /// above `no_music_margin`, every logit of a window without music below −`no_music_margin`
    /// (squared hinges), so that the device's rule "largest logit below the midpoint" (moved
    /// to 0 at export, [`Hyper::music_boundary`]) tells them apart.
    pub no_music_weight: f64,
    /// The margin of the no-music terms for sounds without music, in logits.
    pub no_music_margin: f64,
    /// The margin of the no-music terms for music, in logits.
    pub music_margin: f64,
    /// Windows without music per training batch, as a share of the music windows.
    pub no_music_share: f64,
    /// Synthesised sounds without music to train on, per kind.
    pub no_music_per_kind: usize,
    /// How many times `no_music_per_kind` of clicks and of low-level mixes (the kinds that
    /// leak most).
    pub no_music_focus: usize,
    /// Share of each batch's sounds without music drawn in proportion to their recent loss
    /// (hard-negative mining); the rest are drawn uniformly (0: all uniform).
    pub no_music_hard: f64,
    /// Share of the teacher's soft-label loss in the total (0: hard labels only).
    pub teacher_weight: f64,
    /// Temperature of the teacher's soft labels and of the student's matching softmax.
    pub teacher_temperature: f64,
    /// Weight of the regression onto the teacher's standardised patch embedding (0: off).
    pub teacher_embedding_weight: f64,
    /// Per epoch, a genre with more than this many times the median genre's windows keeps
    /// a random such number of them (genre balance when some genres have far more audio).
    pub genre_cap: f64,
    pub epochs: usize,
    pub batch: usize,
    pub lr: f64,
    pub weight_decay: f64,
    pub dropout: f64,
    pub label_smoothing: f64,
    pub clip_norm: f64,
    /// Random (variant, offset) draws per clip and epoch.
    pub passes: usize,
    /// Std of Gaussian noise added to the z-scored inputs while training.
    pub input_noise: f64,
    /// Largest mixup share of the shuffled partner window (0: off).
    pub mixup: f64,
    /// Probability of masking a feature group, and independently a time span, per window.
    pub feature_mask: f64,
    /// Per-step decay of the exponential moving average of the weights, which is what is
    /// validated and exported (smooths the epoch-to-epoch jitter of a tiny dataset).
    pub ema_decay: f64,
    /// Window stride of the clip decisions (evaluation, prediction), in frames.
    pub stride_frames: usize,
    pub seed: u64,
}

impl Hyper {
    /// The logit halfway between the no-music margins (−`no_music_margin` and
    /// `music_margin`): export moves it to 0, the device's threshold.
    pub fn music_boundary(&self) -> f64 {
        (self.music_margin - self.no_music_margin) / 2.0
    }

    /// From the validated command line.
    pub fn new(c: &crate::cli::TrainConfig) -> Self {
        Self {
            no_music_weight: c.no_music_weight,
            no_music_margin: 1.0,
            music_margin: c.music_margin,
            no_music_share: c.no_music_share,
            no_music_per_kind: c.no_music_per_kind,
            no_music_focus: c.no_music_focus,
            no_music_hard: c.no_music_hard,
            teacher_weight: if c.teacher { c.teacher_weight } else { 0.0 },
            teacher_temperature: c.teacher_temperature,
            teacher_embedding_weight: if c.teacher {
                c.teacher_embedding_weight
            } else {
                0.0
            },
            genre_cap: 1.5,
            epochs: c.epochs,
            batch: c.batch,
            lr: c.lr,
            weight_decay: c.weight_decay,
            dropout: c.dropout,
            label_smoothing: 0.1,
            clip_norm: 1.0,
            passes: c.passes,
            input_noise: c.input_noise,
            mixup: c.mixup,
            feature_mask: c.feature_mask,
            ema_decay: 0.99,
            stride_frames: STRIDE,
            seed: c.seed,
        }
    }
}

/// Per-feature z-score normaliser, from training frames.
#[derive(Debug, Clone)]
pub struct Normaliser {
    pub mean: [f32; N_FEATURES],
    pub std: [f32; N_FEATURES],
}

impl Normaliser {
    /// Mean and standard deviation (floored at 1e-6) of every frame of every variant.
    pub fn fit(train: &[&ClipFeatures]) -> Self {
        let mut sum = [0f64; N_FEATURES];
        let mut sq = [0f64; N_FEATURES];
        let mut n = 0f64;
        for frame in train.iter().flat_map(|c| c.iter()).flatten() {
            for k in 0..N_FEATURES {
                let v = f64::from(frame[k]);
                sum[k] += v;
                sq[k] += v * v;
            }
            n += 1.0;
        }
        let n = n.max(1.0);
        let mean = core::array::from_fn(|k| (sum[k] / n) as f32);
        let std = core::array::from_fn(|k| {
            let m = sum[k] / n;
            ((sq[k] / n - m * m).max(0.0).sqrt() as f32).max(1e-6)
        });
        Self { mean, std }
    }

    fn apply(&self, frame: &FeatureFrame, out: &mut Vec<f32>) {
        out.extend((0..N_FEATURES).map(|k| (frame[k] - self.mean[k]) / self.std[k]));
    }
}

/// One trained LSTM layer in PyTorch's layout (row-major; gate order i, f, g, o).
#[derive(Debug, Clone)]
pub struct LayerWeights {
    /// `weight_ih_l{k}` [4H × in] (in: `N_FEATURES` for layer 0, H above).
    pub w_ih: Vec<f32>,
    /// `weight_hh_l{k}` [4H × H].
    pub w_hh: Vec<f32>,
    /// `bias_ih_l{k}` [4H].
    pub b_ih: Vec<f32>,
    /// `bias_hh_l{k}` [4H].
    pub b_hh: Vec<f32>,
}

/// Trained float weights: the LSTM layers (bottom first) and the head.
#[derive(Debug, Clone)]
pub struct FloatWeights {
    pub layers: [LayerWeights; N_LAYERS],
    /// Head weight [N_GENRES × H].
    pub head_w: Vec<f32>,
    /// Head bias [N_GENRES].
    pub head_b: Vec<f32>,
}

/// One epoch's figures.
#[derive(Debug, Clone, Serialize)]
pub struct EpochStats {
    pub epoch: usize,
    pub train_loss: f64,
    pub train_window_acc: f64,
    /// Window-level loss on the held-out fold (CV only).
    pub val_loss: Option<f64>,
    /// Clip-level accuracy on the held-out fold, float (tch) model (CV only).
    pub val_clip_acc: Option<f64>,
    pub seconds: f64,
}

/// Everything a training run produces.
pub struct Trained {
    pub weights: FloatWeights,
    pub norm: Normaliser,
    pub history: Vec<EpochStats>,
}

/// One LSTM layer's tch variables, in the order `Tensor::lstm` expects them.
struct LayerParams {
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor,
    b_hh: Tensor,
}

impl LayerParams {
    fn tensors(&self) -> [&Tensor; 4] {
        [&self.w_ih, &self.w_hh, &self.b_ih, &self.b_hh]
    }

    fn tensors_mut(&mut self) -> [&mut Tensor; 4] {
        [
            &mut self.w_ih,
            &mut self.w_hh,
            &mut self.b_ih,
            &mut self.b_hh,
        ]
    }
}

/// The tch network.
struct Net {
    layers: [LayerParams; N_LAYERS],
    head_w: Tensor,
    head_b: Tensor,
    /// The map from the pooled hidden state to the teacher's embedding [weight, bias]: in
    /// training only, never exported.
    to_embedding: Option<(Tensor, Tensor)>,
    dropout: f64,
}

impl Net {
    /// The network; `regress` adds the map to the teacher's embedding (created after every
    /// exported variable, so that their initialisation does not depend on it).
    fn new(vs: &nn::Path, regress: bool) -> Self {
        let bound = 1.0 / (HIDDEN as f64).sqrt();
        let init = nn::Init::Uniform {
            lo: -bound,
            up: bound,
        };
        let g = 4 * HIDDEN as i64;
        let h = HIDDEN as i64;
        // Created (and so randomly initialised) layer by layer, then the head.
        let layers = core::array::from_fn(|l| {
            let input = if l == 0 { N_FEATURES as i64 } else { h };
            LayerParams {
                w_ih: vs.var(&format!("weight_ih_l{l}"), &[g, input], init),
                w_hh: vs.var(&format!("weight_hh_l{l}"), &[g, h], init),
                b_ih: vs.var(&format!("bias_ih_l{l}"), &[g], init),
                b_hh: vs.var(&format!("bias_hh_l{l}"), &[g], init),
            }
        });
        let head_w = vs.var("head_weight", &[N_GENRES as i64, h], init);
        let head_b = vs.var("head_bias", &[N_GENRES as i64], init);
        let dim = EMBEDDING_DIM as i64;
        let to_embedding = regress.then(|| {
            (
                vs.var("embedding_weight", &[dim, h], init),
                vs.var("embedding_bias", &[dim], init),
            )
        });
        Self {
            layers,
            head_w,
            head_b,
            to_embedding,
            dropout: 0.0,
        }
    }

    /// Window logits [B × N_GENRES] of windows `x` [B × WINDOW_FRAMES × N_FEATURES]: the head
    /// on the mean of the top layer's outputs over the steps from `POOL_FROM` on (equal to the
    /// mean of the per-step logits, the head being linear).
    fn forward(&self, x: &Tensor, train: bool) -> Tensor {
        self.pooled(x, train)
            .linear(&self.head_w, Some(&self.head_b))
    }

    /// The mean of the top layer's outputs over the steps from `POOL_FROM` on [B × HIDDEN].
    fn pooled(&self, x: &Tensor, train: bool) -> Tensor {
        let b = x.size()[0];
        let zeros = Tensor::zeros(
            [N_LAYERS as i64, b, HIDDEN as i64],
            (Kind::Float, x.device()),
        );
        let (out, _, _) = x.lstm(
            &[&zeros, &zeros],
            &self
                .layers
                .iter()
                .flat_map(LayerParams::tensors)
                .collect::<Vec<_>>(),
            true,
            N_LAYERS as i64,
            self.dropout,
            train,
            false,
            true,
        );
        let from = POOL_FROM as i64;
        out.narrow(1, from, out.size()[1] - from)
            .dropout(self.dropout, train)
            .mean_dim(1, false, Kind::Float)
    }

    /// A detached copy (the moving average starts from the initial weights).
    fn shadow(&self) -> Self {
        let copy = |t: &Tensor| t.detach().copy();
        Self {
            layers: self.layers.each_ref().map(|l| LayerParams {
                w_ih: copy(&l.w_ih),
                w_hh: copy(&l.w_hh),
                b_ih: copy(&l.b_ih),
                b_hh: copy(&l.b_hh),
            }),
            head_w: copy(&self.head_w),
            head_b: copy(&self.head_b),
            to_embedding: None,
            dropout: self.dropout,
        }
    }

    /// `self = decay·self + (1 − decay)·live`, without gradients.
    fn update_average(&mut self, live: &Self, decay: f64) {
        let _guard = tch::no_grad_guard();
        let pairs = self
            .layers
            .iter_mut()
            .flat_map(LayerParams::tensors_mut)
            .zip(live.layers.iter().flat_map(LayerParams::tensors))
            .chain([
                (&mut self.head_w, &live.head_w),
                (&mut self.head_b, &live.head_b),
            ]);
        for (avg, cur) in pairs {
            let _ = avg.g_mul_scalar_(decay);
            let _ = avg.g_add_(&(cur.detach() * (1.0 - decay)));
        }
    }

    /// The weights, copied to the CPU.
    ///
    /// # Errors
    /// A tensor does not convert to `f32` values.
    fn export(&self) -> Result<FloatWeights> {
        let v = |t: &Tensor| -> Result<Vec<f32>> {
            Ok(Vec::<f32>::try_from(
                t.to_device(Device::Cpu).flatten(0, -1),
            )?)
        };
        let layer = |l: &LayerParams| -> Result<LayerWeights> {
            Ok(LayerWeights {
                w_ih: v(&l.w_ih)?,
                w_hh: v(&l.w_hh)?,
                b_ih: v(&l.b_ih)?,
                b_hh: v(&l.b_hh)?,
            })
        };
        // genre-core's engines are exactly two layers deep (a compile-time check there).
        let [l0, l1] = &self.layers;
        Ok(FloatWeights {
            layers: [layer(l0)?, layer(l1)?],
            head_w: v(&self.head_w)?,
            head_b: v(&self.head_b)?,
        })
    }
}

/// A window: clip index, variant, first frame.
type Win = (usize, usize, usize);

/// Window start frames for `n` frames at `stride` (a trailing partial window is dropped).
pub fn window_starts(n: usize, stride: usize) -> impl Iterator<Item = usize> {
    (0..=n.saturating_sub(WINDOW_FRAMES))
        .step_by(stride.max(1))
        .filter(move |s| s + WINDOW_FRAMES <= n)
}

/// What the teacher gives each training clip, per patch ([`crate::teacher::patch_of`]): its
/// soft labels at the temperature of [`Hyper::teacher_temperature`], and its standardised
/// embeddings (the regression targets of [`Hyper::teacher_embedding_weight`]).
pub struct Teaching {
    pub soft: Vec<Vec<[f32; N_GENRES]>>,
    pub embeddings: Vec<Vec<[f32; EMBEDDING_DIM]>>,
}

/// A genre with more than `cap` times the median genre's windows keeps a random such number
/// of them; `order` comes back unchanged when no genre exceeds that.
fn balance_genres(order: Vec<Win>, labels: &[usize], cap: f64, rng: &mut ChaCha8Rng) -> Vec<Win> {
    let mut per_genre: [Vec<Win>; N_GENRES] = Default::default();
    for w in &order {
        per_genre[labels[w.0]].push(*w);
    }
    let mut counts: Vec<usize> = per_genre.iter().map(Vec::len).filter(|&n| n > 0).collect();
    counts.sort_unstable();
    let limit = (counts.get(counts.len() / 2).copied().unwrap_or(0) as f64 * cap).round() as usize;
    if counts.last().is_none_or(|&most| most <= limit) {
        return order;
    }
    per_genre
        .into_iter()
        .flat_map(|mut windows| {
            if windows.len() > limit {
                windows.shuffle(rng);
                windows.truncate(limit);
            }
            windows
        })
        .collect()
}

/// Validation data: clips (original variant only) and their genres.
pub struct Validation<'a> {
    pub clips: Vec<&'a ClipFeatures>,
    pub labels: Vec<usize>,
}

/// Feature groups that masking zeroes as a whole: MFCC, centroid, chroma, contrast.
const MASK_GROUPS: [(usize, usize); 4] = [
    (MFCC_OFFSET, CENTROID_OFFSET),
    (CENTROID_OFFSET, CHROMA_OFFSET),
    (CHROMA_OFFSET, CONTRAST_OFFSET),
    (CONTRAST_OFFSET, N_FEATURES),
];
/// Longest masked time span, frames.
const MASK_SPAN: usize = 16;

/// SpecAugment-style masking of one normalised window (frame-major, `N_FEATURES` per frame):
/// with probability `p` one feature group is zeroed over the whole window, and with
/// probability `p` every feature of a span of 1..=16 frames.
fn mask_window(window: &mut [f32], p: f64, rng: &mut ChaCha8Rng) {
    let frames = window.len() / N_FEATURES;
    if rng.random_bool(p) {
        let (from, to) = MASK_GROUPS[rng.random_range(0..MASK_GROUPS.len())];
        for frame in window.chunks_exact_mut(N_FEATURES) {
            frame[from..to].fill(0.0);
        }
    }
    if frames > 0 && rng.random_bool(p) {
        let span = rng.random_range(1..=MASK_SPAN.min(frames));
        let start = rng.random_range(0..=frames - span);
        window[start * N_FEATURES..(start + span) * N_FEATURES].fill(0.0);
    }
}

/// Trains a model on `train` (features and genre of each clip) and, when
/// [`Hyper::no_music_weight`] is above 0, on `no_music` (frames of sounds without music).
///
/// # Errors
/// No training windows, or interrupted by Ctrl-C.
#[allow(clippy::too_many_arguments)]
pub fn train(
    train: &[&ClipFeatures],
    labels: &[usize],
    no_music: &[Vec<FeatureFrame>],
    teaching: Option<&Teaching>,
    val: Option<&Validation<'_>>,
    hyper: &Hyper,
    device: Device,
    title: &str,
) -> Result<Trained> {
    tch::manual_seed(hyper.seed as i64);
    let mut rng = ChaCha8Rng::seed_from_u64(hyper.seed);
    let norm = Normaliser::fit(train);
    let vs = nn::VarStore::new(device);
    let regress = hyper.teacher_embedding_weight > 0.0 && teaching.is_some();
    let mut net = Net::new(&vs.root(), regress);
    net.dropout = hyper.dropout;
    let mut avg = net.shadow();
    let mut opt = nn::OptimizerConfig::build(
        nn::AdamW {
            wd: hyper.weight_decay,
            ..nn::AdamW::default()
        },
        &vs,
        hyper.lr,
    )?;

    // Per epoch and clip: a variant (the original with probability ½, else an augmented copy) and a random start
    // offset in 0..WINDOW_FRAMES, then every window at a stride of one window from there. Over
    // the epochs every window position of every clip is used, at half the cost per epoch of a
    // fixed half-window stride.
    let windows_per_epoch: usize = train.iter().map(|f| f[0].len() / WINDOW_FRAMES).sum();
    if windows_per_epoch == 0 {
        bail!("no training windows ({WINDOW_FRAMES} frames each)");
    }
    let bar = ProgressBar::new((hyper.epochs * windows_per_epoch.div_ceil(hyper.batch)) as u64)
        .with_style(
            ProgressStyle::with_template("{prefix} {bar:30} epoch {msg} [{elapsed}<{eta}]")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
    bar.set_prefix(title.to_owned());
    let mut history = Vec::with_capacity(hyper.epochs);
    let mut xbuf = Vec::with_capacity(hyper.batch * WINDOW_FRAMES * N_FEATURES);
    let no_music: Vec<&Vec<FeatureFrame>> = no_music
        .iter()
        .filter(|f| f.len() >= WINDOW_FRAMES)
        .collect();
    let learn_no_music = hyper.no_music_weight > 0.0 && !no_music.is_empty();
    let mut nbuf = Vec::new();
    // Per sound without music: its loss when last drawn plus HARDNESS_FLOOR, so that no
    // sound drops out (1 until first drawn); what the hard draws are weighted by.
    let mut hardness = vec![1.0f64; no_music.len()];
    let mut drawn = Vec::new();
    for epoch in 0..hyper.epochs {
        let started = std::time::Instant::now();
        // Cosine decay from lr to lr/20.
        let t = epoch as f64 / hyper.epochs.max(2).saturating_sub(1) as f64;
        opt.set_lr(hyper.lr * (0.05 + 0.95 * 0.5 * (1.0 + (core::f64::consts::PI * t).cos())));
        let mut order: Vec<Win> = Vec::with_capacity(windows_per_epoch);
        for (c, clip) in train
            .iter()
            .enumerate()
            .cycle()
            .take(train.len() * hyper.passes)
        {
            // The original audio half of the time, else one of the augmented copies.
            let v = if clip.len() < 2 || rng.random_bool(0.5) {
                0
            } else {
                rng.random_range(1..clip.len())
            };
            let offset = rng.random_range(0..WINDOW_FRAMES);
            let n = clip[v].len();
            let first = if n >= offset + WINDOW_FRAMES {
                offset
            } else {
                0
            };
            order.extend(window_starts(n - first, WINDOW_FRAMES).map(|s| (c, v, first + s)));
        }
        let mut order = balance_genres(order, labels, hyper.genre_cap, &mut rng);
        if epoch == 0 {
            bar.set_length((hyper.epochs * order.len().div_ceil(hyper.batch)) as u64);
        }
        order.shuffle(&mut rng);
        let (mut loss_sum, mut correct, mut seen) = (0.0, 0usize, 0usize);
        bar.set_message(format!("{}/{}", epoch + 1, hyper.epochs));
        for batch in order.chunks(hyper.batch) {
            xbuf.clear();
            for &(c, v, s) in batch {
                let first = xbuf.len();
                for frame in &train[c][v][s..s + WINDOW_FRAMES] {
                    norm.apply(frame, &mut xbuf);
                }
                if hyper.feature_mask > 0.0 {
                    mask_window(&mut xbuf[first..], hyper.feature_mask, &mut rng);
                }
            }
            let x = Tensor::from_slice(&xbuf)
                .view([batch.len() as i64, WINDOW_FRAMES as i64, N_FEATURES as i64])
                .to_device(device);
            let y: Vec<i64> = batch.iter().map(|&(c, _, _)| labels[c] as i64).collect();
            let y = Tensor::from_slice(&y).to_device(device);
            let x = if hyper.input_noise > 0.0 {
                &x + x.randn_like() * hyper.input_noise
            } else {
                x
            };
            // Mixup with a shuffled copy of the batch (`share` of the partner).
            let mix = (hyper.mixup > 0.0).then(|| {
                let share = rng.random_range(0.0..hyper.mixup);
                (
                    share,
                    Tensor::randperm(batch.len() as i64, (Kind::Int64, device)),
                )
            });
            let x = match &mix {
                Some((share, perm)) => &x * (1.0 - share) + x.index_select(0, perm) * *share,
                None => x,
            };
            let pooled = net.pooled(&x, true);
            let logits = pooled.linear(&net.head_w, Some(&net.head_b));
            let ce = |target: &Tensor| {
                logits.cross_entropy_loss::<Tensor>(
                    target,
                    None,
                    tch::Reduction::Mean,
                    -100,
                    hyper.label_smoothing,
                )
            };
            let hard = match &mix {
                Some((share, perm)) => {
                    ce(&y) * (1.0 - share) + ce(&y.index_select(0, perm)) * *share
                }
                None => ce(&y),
            };
            let loss = match teaching.filter(|_| hyper.teacher_weight > 0.0) {
                Some(t) => {
                    let soft = patch_targets(&t.soft, batch, mix.as_ref(), device);
                    // Cross-entropy to the teacher at temperature T (KL up to a constant),
                    // scaled by T² so its gradients match the hard loss's size.
                    let temp = hyper.teacher_temperature;
                    let kd = -(soft * (&logits / temp).log_softmax(-1, Kind::Float))
                        .sum_dim_intlist(-1, false, Kind::Float)
                        .mean(Kind::Float)
                        * (temp * temp);
                    hard * (1.0 - hyper.teacher_weight) + kd * hyper.teacher_weight
                }
                None => hard,
            };
            let loss = match (teaching, &net.to_embedding) {
                (Some(t), Some((w, b))) => {
                    let target = patch_targets(&t.embeddings, batch, mix.as_ref(), device);
                    let mse = (pooled.linear(w, Some(b)) - target)
                        .square()
                        .mean(Kind::Float);
                    loss + mse * hyper.teacher_embedding_weight
                }
                _ => loss,
            };
            let loss = if learn_no_music {
                let n = ((batch.len() as f64 * hyper.no_music_share).ceil() as usize).max(1);
                nbuf.clear();
                drawn.clear();
                let hard = (hyper.no_music_hard > 0.0)
                    .then(|| rand::distr::weighted::WeightedIndex::new(&hardness).ok())
                    .flatten();
                for _ in 0..n {
                    let i = match &hard {
                        Some(w) if rng.random_bool(hyper.no_music_hard) => rng.sample(w),
                        _ => rng.random_range(0..no_music.len()),
                    };
                    drawn.push(i);
                    let frames = no_music[i];
                    let s = rng.random_range(0..=frames.len() - WINDOW_FRAMES);
                    for frame in &frames[s..s + WINDOW_FRAMES] {
                        norm.apply(frame, &mut nbuf);
                    }
                }
                let xn = Tensor::from_slice(&nbuf)
                    .view([n as i64, WINDOW_FRAMES as i64, N_FEATURES as i64])
                    .to_device(device);
                let margin = hyper.no_music_margin;
                // Music: the largest logit above its margin; no music: all of them (their
                // log-sum-exp, a smooth bound on the largest) below −margin.
                let music = (-logits.amax(-1, false) + hyper.music_margin)
                    .relu()
                    .square()
                    .mean(Kind::Float);
                let quiet = (net.forward(&xn, true).logsumexp(-1, false) + margin)
                    .relu()
                    .square();
                if hard.is_some() {
                    let losses = Vec::<f64>::try_from(quiet.detach().to_kind(Kind::Double))?;
                    for (&i, l) in drawn.iter().zip(losses) {
                        hardness[i] = HARDNESS_FLOOR + l;
                    }
                }
                let quiet = quiet.mean(Kind::Float);
                loss + (music + quiet) * hyper.no_music_weight
            } else {
                loss
            };
            opt.backward_step_clip_norm(&loss, hyper.clip_norm);
            avg.update_average(&net, hyper.ema_decay);
            loss_sum += loss.double_value(&[]) * batch.len() as f64;
            correct += logits
                .argmax(-1, false)
                .eq_tensor(&y)
                .sum(Kind::Int64)
                .int64_value(&[]) as usize;
            seen += batch.len();
            bar.inc(1);
        }
        let (val_loss, val_clip_acc) = match val {
            Some(v) => {
                let (l, a) = validate(&avg, &norm, v, hyper.stride_frames, device);
                (Some(l), Some(a))
            }
            None => (None, None),
        };
        let stats = EpochStats {
            epoch: epoch + 1,
            train_loss: loss_sum / seen.max(1) as f64,
            train_window_acc: correct as f64 / seen.max(1) as f64,
            val_loss,
            val_clip_acc,
            seconds: started.elapsed().as_secs_f64(),
        };
        log(
            &bar,
            format!(
                "{title} epoch {:>2}: loss {:.3}, window acc {:.3}{} ({:.1} s)",
                stats.epoch,
                stats.train_loss,
                stats.train_window_acc,
                match (stats.val_loss, stats.val_clip_acc) {
                    (Some(l), Some(a)) => format!(", held-out loss {l:.3}, clip acc {a:.3}"),
                    _ => String::new(),
                },
                stats.seconds
            ),
        );
        history.push(stats);
        if STOP.load(Ordering::SeqCst) {
            bar.abandon();
            bail!(
                "interrupted (Ctrl-C) after epoch {}: nothing written",
                epoch + 1
            );
        }
    }
    bar.finish_and_clear();
    Ok(Trained {
        weights: avg.export()?,
        norm,
        history,
    })
}

/// The teacher's per-patch values (`per_clip[clip][patch]`) of each window of `batch`, as a
/// [B × D] tensor on `device`, blended like the batch when it is mixed up (`mix`: the
/// partner's share and the permutation).
fn patch_targets<const D: usize>(
    per_clip: &[Vec<[f32; D]>],
    batch: &[Win],
    mix: Option<&(f64, Tensor)>,
    device: Device,
) -> Tensor {
    let values: Vec<f32> = batch
        .iter()
        .flat_map(|&(c, _, s)| per_clip[c][crate::teacher::patch_of(s, per_clip[c].len())])
        .collect();
    let targets = Tensor::from_slice(&values)
        .view([batch.len() as i64, D as i64])
        .to_device(device);
    match mix {
        Some((share, perm)) => &targets * (1.0 - share) + targets.index_select(0, perm) * *share,
        None => targets,
    }
}

/// Prints above the progress bar, or plainly when the bar is hidden (not a terminal).
fn log(bar: &ProgressBar, line: String) {
    if bar.is_hidden() {
        eprintln!("{line}");
    } else {
        bar.println(line);
    }
}

/// Held-out window loss and clip accuracy (mean log-probability over all windows).
fn validate(
    net: &Net,
    norm: &Normaliser,
    val: &Validation<'_>,
    stride: usize,
    device: Device,
) -> (f64, f64) {
    let _guard = tch::no_grad_guard();
    let (mut loss_sum, mut n_win, mut correct) = (0.0, 0usize, 0usize);
    for (clip, &label) in val.clips.iter().zip(&val.labels) {
        let frames = &clip[0];
        let mut xbuf = Vec::new();
        let mut n = 0i64;
        for s in window_starts(frames.len(), stride) {
            for frame in &frames[s..s + WINDOW_FRAMES] {
                norm.apply(frame, &mut xbuf);
            }
            n += 1;
        }
        if n == 0 {
            continue;
        }
        let x = Tensor::from_slice(&xbuf)
            .view([n, WINDOW_FRAMES as i64, N_FEATURES as i64])
            .to_device(device);
        let logp = net.forward(&x, false).log_softmax(-1, Kind::Float);
        loss_sum -= logp
            .select(1, label as i64)
            .sum(Kind::Float)
            .double_value(&[]);
        n_win += n as usize;
        let clip_pred = logp
            .mean_dim(0, false, Kind::Float)
            .argmax(-1, false)
            .int64_value(&[]);
        correct += usize::from(clip_pred == label as i64);
    }
    (
        loss_sum / n_win.max(1) as f64,
        correct as f64 / val.clips.len().max(1) as f64,
    )
}
