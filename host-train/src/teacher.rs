//! The teacher (training time only; never in `tinygenre`, the firmware or CI's tests): the
//! penultimate layer of musicnn's MSD model (PyPI `musicnn==0.1.0`, ISC licence; weights
//! inside the package) on 3 s patches aligned with the student's windows, computed by
//! `host-train/teacher/embed.py` in its own venv (`scripts/setup-teacher`) and cached per
//! file content; and a logistic-regression readout of it, fitted per fold on that fold's
//! training clips. Its soft labels teach the student ([`crate::train`]); its clip decisions
//! are the yardstick `eval` reports on the same folds.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};
use genre_core::config::N_GENRES;
use tch::{Device, Kind, Tensor};

use crate::dataset::{content_hash, Clip};
use crate::features::TILE_TO_SAMPLES;

/// Width of musicnn's penultimate layer.
pub const DIM: usize = 200;
/// Patch stride, student frames (0.512 s).
pub const STRIDE_FRAMES: usize = 16;
/// Cache sub-folder: bump when the embedding recipe changes.
const CACHE_NAME: &str = "musicnn-msd-v1";
/// Cache file magic.
const MAGIC: &[u8; 4] = b"TGT1";
/// Inverse L2 strength of the readout, as scikit-learn's `C` (objective: mean loss +
/// ‖W‖² / (2·C·N)).
const READOUT_C: f64 = 0.01;
const READOUT_STEPS: i64 = 400;

/// One clip's patch embeddings: patch `p` starts at student frame `p · STRIDE_FRAMES`.
#[derive(Debug, Clone)]
pub struct Embeddings {
    pub patches: Vec<[f32; DIM]>,
}

impl Embeddings {
    /// The mean over the patches (musicnn's clip embedding).
    fn mean(&self) -> [f32; DIM] {
        let n = self.patches.len().max(1) as f32;
        core::array::from_fn(|k| self.patches.iter().map(|p| p[k]).sum::<f32>() / n)
    }
}

/// The Python that runs the teacher: `$TINYGENRE_TEACHER_PYTHON`, else the venv of
/// `scripts/setup-teacher`.
fn teacher_python() -> PathBuf {
    if let Some(p) = std::env::var_os("TINYGENRE_TEACHER_PYTHON") {
        return PathBuf::from(p);
    }
    let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("."), PathBuf::from);
    home.join(".cache/tinygenre/teacher-venv/bin/python")
}

/// Loads every clip's embeddings from `cache`, first running the teacher on the clips that
/// have none.
///
/// # Errors
/// The teacher is not installed (the message names `scripts/setup-teacher` and
/// `--no-teacher`), it fails, or a cache file is malformed.
pub fn load_all(clips: &[Clip], cache: &Path) -> Result<Vec<Embeddings>> {
    let dir = cache.join(CACHE_NAME);
    let keys: Vec<PathBuf> = clips
        .iter()
        .map(|c| Ok(dir.join(format!("{:016x}.tgt", content_hash(&c.path)?))))
        .collect::<Result<_>>()?;
    let missing: Vec<(&Clip, &PathBuf)> = clips
        .iter()
        .zip(&keys)
        .filter(|(_, k)| !k.is_file())
        .collect();
    if !missing.is_empty() {
        run_teacher(&missing, &dir)?;
    }
    clips
        .iter()
        .zip(&keys)
        .map(|(c, k)| read(k).with_context(|| format!("teacher embeddings of {}", c.name)))
        .collect()
}

/// Runs `embed.py` on `clips`, each with its cache file's path.
fn run_teacher(clips: &[(&Clip, &PathBuf)], dir: &Path) -> Result<()> {
    let python = teacher_python();
    if !python.is_file() {
        bail!(
            "the teacher (musicnn) is not installed ({} not found): run scripts/setup-teacher \
             once, or pass --no-teacher to train without it",
            python.display()
        );
    }
    let script = crate::cli::workspace_root().join("host-train/teacher/embed.py");
    eprintln!(
        "teacher: musicnn embeddings of {} clips (about 1 s each, cached in {})",
        clips.len(),
        dir.display()
    );
    let mut child = Command::new(&python)
        .arg(&script)
        .args(["--out", &dir.display().to_string()])
        .args(["--stride", &STRIDE_FRAMES.to_string()])
        .args(["--min-samples", &TILE_TO_SAMPLES.to_string()])
        .stdin(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting {}", python.display()))?;
    if let Some(mut stdin) = child.stdin.take() {
        use std::io::Write;
        for (clip, key) in clips {
            let stem = key.file_stem().unwrap_or_default().to_string_lossy();
            writeln!(stdin, "{stem}\t{}", clip.path.display())?;
        }
    }
    let status = child.wait()?;
    if !status.success() {
        bail!(
            "the teacher failed ({status}); see its messages above. Rerun scripts/setup-teacher, \
             or pass --no-teacher"
        );
    }
    Ok(())
}

/// Reads one cache file (`TGT1`, patches, stride, dim, then f32 values).
fn read(path: &Path) -> Result<Embeddings> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let word = |i: usize| -> Option<usize> {
        Some(u32::from_le_bytes(bytes.get(4 + 4 * i..8 + 4 * i)?.try_into().ok()?) as usize)
    };
    let (Some(n), Some(stride), Some(dim)) = (word(0), word(1), word(2)) else {
        bail!("{}: truncated header", path.display());
    };
    if &bytes[..4] != MAGIC || stride != STRIDE_FRAMES || dim != DIM {
        bail!(
            "{}: not a {CACHE_NAME} file (stride {stride}, dim {dim}); delete it",
            path.display()
        );
    }
    let body = &bytes[16..];
    if n == 0 || body.len() != n * DIM * 4 {
        bail!("{}: {} bytes for {n} patches", path.display(), body.len());
    }
    let values: Vec<f32> = body
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    Ok(Embeddings {
        patches: values
            .chunks_exact(DIM)
            .map(|p| core::array::from_fn(|k| p[k]))
            .collect(),
    })
}

/// A logistic-regression readout of standardised embeddings.
#[derive(Debug, Clone)]
pub struct Readout {
    mean: [f32; DIM],
    std: [f32; DIM],
    /// [N_GENRES × DIM], row-major.
    weight: Vec<f32>,
    bias: [f32; N_GENRES],
}

impl Readout {
    /// Fits the readout on the clip embeddings (mean over patches) of `train`, each genre
    /// weighted by the inverse of its clip count, L2 as scikit-learn's `C = 0.01`;
    /// full-batch Adam on the CPU (deterministic).
    ///
    /// # Errors
    /// A tensor does not convert back to `f32` values.
    pub fn fit(train: &[&Embeddings], labels: &[usize]) -> Result<Self> {
        let x: Vec<[f32; DIM]> = train.iter().map(|e| e.mean()).collect();
        let n = x.len().max(1) as f32;
        let mean: [f32; DIM] = core::array::from_fn(|k| x.iter().map(|v| v[k]).sum::<f32>() / n);
        let std: [f32; DIM] = core::array::from_fn(|k| {
            let var = x.iter().map(|v| (v[k] - mean[k]).powi(2)).sum::<f32>() / n;
            var.sqrt().max(1e-6)
        });
        let flat: Vec<f32> = x
            .iter()
            .flat_map(|v| (0..DIM).map(move |k| (v[k] - mean[k]) / std[k]))
            .collect();
        let mut count = [0f32; N_GENRES];
        for &l in labels {
            count[l] += 1.0;
        }
        let sample_w: Vec<f32> = labels.iter().map(|&l| 1.0 / count[l]).collect();
        let opts = (Kind::Float, Device::Cpu);
        let xs = Tensor::from_slice(&flat).view([x.len() as i64, DIM as i64]);
        let ys = Tensor::from_slice(&labels.iter().map(|&l| l as i64).collect::<Vec<_>>());
        let ws = Tensor::from_slice(&sample_w);
        let ws = &ws / ws.sum(Kind::Float);
        let mut w = Tensor::zeros([N_GENRES as i64, DIM as i64], opts).set_requires_grad(true);
        let mut b = Tensor::zeros([N_GENRES as i64], opts).set_requires_grad(true);
        let l2 = 1.0 / (2.0 * READOUT_C * f64::from(n));
        // Full-batch Adam, written out for the two tensors.
        let (mut m_w, mut v_w) = (w.zeros_like(), w.zeros_like());
        let (mut m_b, mut v_b) = (b.zeros_like(), b.zeros_like());
        let (lr, b1, b2, eps) = (0.05, 0.9, 0.999, 1e-8);
        for step in 1..=READOUT_STEPS {
            let logp = xs.linear(&w, Some(&b)).log_softmax(-1, Kind::Float);
            let nll =
                -(logp.gather(1, &ys.unsqueeze(1), false).squeeze_dim(1) * &ws).sum(Kind::Float);
            let loss = nll + w.square().sum(Kind::Float) * l2;
            w.zero_grad();
            b.zero_grad();
            loss.backward();
            tch::no_grad(|| {
                for (p, m, v) in [(&w, &mut m_w, &mut v_w), (&b, &mut m_b, &mut v_b)] {
                    let g = p.grad();
                    *m = &*m * b1 + &g * (1.0 - b1);
                    *v = &*v * b2 + g.square() * (1.0 - b2);
                    let mhat = &*m / (1.0 - b1.powi(step as i32));
                    let vhat = &*v / (1.0 - b2.powi(step as i32));
                    let mut p = p.shallow_clone();
                    let _ = p.g_sub_(&(mhat / (vhat.sqrt() + eps) * lr));
                }
            });
        }
        let weight = Vec::<f32>::try_from(w.detach().flatten(0, -1))?;
        let bias_v = Vec::<f32>::try_from(b.detach())?;
        Ok(Self {
            mean,
            std,
            weight,
            bias: core::array::from_fn(|g| bias_v[g]),
        })
    }

    /// One embedding standardised by the training clips' mean and deviation.
    pub fn standardise(&self, e: &[f32; DIM]) -> [f32; DIM] {
        core::array::from_fn(|k| (e[k] - self.mean[k]) / self.std[k])
    }

    /// Logits of one embedding.
    fn logits(&self, e: &[f32; DIM]) -> [f32; N_GENRES] {
        core::array::from_fn(|g| {
            let row = &self.weight[g * DIM..(g + 1) * DIM];
            self.bias[g]
                + (0..DIM)
                    .map(|k| row[k] * (e[k] - self.mean[k]) / self.std[k])
                    .sum::<f32>()
        })
    }

    /// The clip decision (logits of the clip embedding), as musicnn's yardstick is scored.
    pub fn clip_logits(&self, e: &Embeddings) -> [f32; N_GENRES] {
        self.logits(&e.mean())
    }

    /// Per patch: the genre distribution at `temperature` (softmax of logits / temperature).
    pub fn soft_labels(&self, e: &Embeddings, temperature: f64) -> Vec<[f32; N_GENRES]> {
        e.patches
            .iter()
            .map(|p| {
                let z = self.logits(p).map(|v| f64::from(v) / temperature);
                let top = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let exp = z.map(|v| (v - top).exp());
                let sum: f64 = exp.iter().sum();
                exp.map(|v| (v / sum) as f32)
            })
            .collect()
    }
}

/// The patch whose start is nearest to student frame `start` (clamped to the clip's).
pub fn patch_of(start: usize, patches: usize) -> usize {
    ((start + STRIDE_FRAMES / 2) / STRIDE_FRAMES).min(patches.saturating_sub(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readout_separates_separable_clips_and_soft_labels_sum_to_one() {
        // Two genres whose embeddings differ in one coordinate.
        let clip = |g: usize, j: usize| Embeddings {
            patches: (0..3)
                .map(|p| {
                    core::array::from_fn(|k| {
                        if k == 0 {
                            g as f32 * 2.0 - 1.0
                        } else {
                            ((j * 7 + p * 3 + k) % 5) as f32 * 0.1
                        }
                    })
                })
                .collect(),
        };
        // As many clips as a fold trains on, so the L2 term weighs as it does there.
        let clips: Vec<Embeddings> = (0..300).map(|j| clip(j % 2, j)).collect();
        let refs: Vec<&Embeddings> = clips.iter().collect();
        let labels: Vec<usize> = (0..300).map(|j| j % 2).collect();
        let r = Readout::fit(&refs, &labels).expect("fits");
        for (c, &l) in clips.iter().zip(&labels) {
            let z = r.clip_logits(c);
            assert!(z[l] > z[1 - l], "clip of genre {l}: {z:?}");
            for p in r.soft_labels(c, 2.0) {
                assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-5);
                assert!(p[l] > p[1 - l]);
            }
        }
    }

    #[test]
    fn nearest_patch() {
        assert_eq!(patch_of(0, 5), 0);
        assert_eq!(patch_of(7, 5), 0);
        assert_eq!(patch_of(8, 5), 1);
        assert_eq!(patch_of(40, 5), 3);
        assert_eq!(patch_of(500, 5), 4);
    }
}
