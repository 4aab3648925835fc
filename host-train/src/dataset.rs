//! The dataset: GTZAN's directory layout (`genres/<genre>/*.wav|au`, or any subset of it) and
//! the fixed 5-fold split in `folds.csv` (`path,genre,fold`).

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

pub use genre_core::config::GENRES;

/// Cross-validation folds.
pub const N_FOLDS: usize = 5;

/// How to obtain the data, shown whenever the dataset is missing or malformed.
const HOW_TO_GET: &str = "\
GTZAN is not part of this repository (its music has no copyright clearance). Get the GTZAN
genre collection (e.g. the 'GTZAN Dataset - Music Genre Classification' download, folder
genres_original/ renamed to genres/), so that the folder looks like
    <DIR>/genres/blues/blues.00000.wav … <DIR>/genres/rock/rock.00099.wav
optionally with <DIR>/folds.csv (path,genre,fold). Then point at it with --data <DIR> or
GTZAN_DIR=<DIR>, or put it at data/gtzan in the workspace.";

/// One clip of the dataset.
#[derive(Debug, Clone)]
pub struct Clip {
    /// Absolute or data-relative file path.
    pub path: PathBuf,
    /// Path relative to the data folder, as written in `folds.csv`.
    pub name: String,
    /// Index into [`GENRES`].
    pub genre: usize,
    /// Cross-validation fold, `0..N_FOLDS`.
    pub fold: usize,
    /// Listed in `other-artists.txt`: a clip of an artist the numbered clips do not cover.
    pub other_artist: bool,
}

/// Lists the clips under `dir`, with folds from `dir/folds.csv` where listed and otherwise by
/// contiguous pairs of clip numbers (neighbouring GTZAN clips often share an artist).
///
/// # Errors
/// A missing `genres/` folder, unknown genre folders, a malformed `folds.csv`, or no clips:
/// the message says how to get GTZAN and how to point at it.
pub fn load(dir: &Path, clips_per_genre: Option<usize>) -> Result<Vec<Clip>> {
    let genres_dir = dir.join("genres");
    if !genres_dir.is_dir() {
        bail!(
            "no GTZAN dataset at {} (missing folder {}).\n{HOW_TO_GET}",
            dir.display(),
            genres_dir.display()
        );
    }
    let folds = read_folds(&dir.join("folds.csv"))?;
    let other_artists = read_other_artists(&dir.join("other-artists.txt"));
    let mut clips = Vec::new();
    for (genre, name) in GENRES.iter().enumerate() {
        let gdir = genres_dir.join(name);
        if !gdir.is_dir() {
            continue;
        }
        let mut files: Vec<PathBuf> = fs::read_dir(&gdir)
            .with_context(|| format!("reading {}", gdir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.is_file()
                    && matches!(
                        p.extension().and_then(|e| e.to_str()),
                        Some("wav" | "au" | "WAV" | "AU")
                    )
            })
            .collect();
        files.sort();
        if let Some(n) = clips_per_genre {
            files.truncate(n);
        }
        for (rank, path) in files.into_iter().enumerate() {
            let rel = format!(
                "genres/{name}/{}",
                path.file_name().unwrap_or_default().to_string_lossy()
            );
            let fold = match folds.get(&rel) {
                Some(&(g, f)) if g == genre => f,
                Some(_) => bail!("folds.csv gives {rel} a genre other than its folder"),
                None => (rank / 2) % N_FOLDS,
            };
            let other_artist = other_artists.contains(&rel);
            clips.push(Clip {
                path,
                name: rel,
                genre,
                fold,
                other_artist,
            });
        }
    }
    if clips.is_empty() {
        bail!(
            "no clips under {} (expected genres/<genre>/*.wav|au with genres {}).\n{HOW_TO_GET}",
            genres_dir.display(),
            GENRES.join(", ")
        );
    }
    Ok(clips)
}

/// The clip paths (relative, as in `folds.csv`) listed in `other-artists.txt`, one per line;
/// a missing file lists none.
fn read_other_artists(path: &Path) -> std::collections::HashSet<String> {
    fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

/// Reads `folds.csv` into `path → (genre index, fold)`; a missing file gives an empty map.
fn read_folds(path: &Path) -> Result<HashMap<String, (usize, usize)>> {
    let mut map = HashMap::new();
    let Ok(text) = fs::read_to_string(path) else {
        return Ok(map);
    };
    let mut lines = text.lines();
    if lines.next().map(str::trim) != Some("path,genre,fold") {
        bail!(
            "{}: the first line must be `path,genre,fold`.\n{HOW_TO_GET}",
            path.display()
        );
    }
    for (i, line) in lines.enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.trim().split(',').collect();
        let [file, genre, fold] = fields[..] else {
            bail!("{} line {}: expected 3 fields", path.display(), i + 2);
        };
        let genre = GENRES
            .iter()
            .position(|g| *g == genre)
            .with_context(|| format!("{} line {}: unknown genre {genre}", path.display(), i + 2))?;
        let fold: usize = fold
            .parse()
            .ok()
            .filter(|f| *f < N_FOLDS)
            .with_context(|| format!("{} line {}: fold must be 0..4", path.display(), i + 2))?;
        map.insert(file.to_owned(), (genre, fold));
    }
    Ok(map)
}

/// FNV-1a (64 bit) of a file's bytes: the cache key of its content.
///
/// # Errors
/// The file cannot be read.
pub fn content_hash(path: &Path) -> Result<u64> {
    let bytes = fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(fnv1a64(&bytes))
}

/// FNV-1a, 64 bit.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}
