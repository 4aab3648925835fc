//! The dataset: GTZAN's directory layout (`genres/<genre>/*.wav|au`, or any subset of it),
//! the optional `more-clips` folder (`clips.csv`), and the two cross-validation splits:
//! `folds.csv` (kept for continuity) and artist-disjoint folds ([`assign_artist_folds`]).

use std::collections::{BTreeMap, HashMap, HashSet};
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

/// Where a clip comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    /// `genres/`, numbered 00000-00009 (one or two artists per genre).
    GtzanNumbered,
    /// `genres/`, listed in `other-artists.txt`.
    GtzanOther,
    /// `more-clips`, a whole 30 s clip (GTZAN, or a named artist from another source).
    MoreClip,
    /// `more-clips`, a 2-3 s GTZAN excerpt: shorter than a window, so training only.
    MoreExcerpt,
    /// `more-clips`, a style sample of another data set with no artist: training only.
    MoreStyle,
}

impl Source {
    /// One of the 126 clips of `genres/` (not `more-clips`).
    pub fn is_gtzan(self) -> bool {
        matches!(self, Self::GtzanNumbered | Self::GtzanOther)
    }
}

/// One clip of the dataset.
#[derive(Debug, Clone)]
pub struct Clip {
    /// Absolute or data-relative file path.
    pub path: PathBuf,
    /// Path relative to its data folder (as in `folds.csv`; `more-clips/…` for the others).
    pub name: String,
    /// Index into [`GENRES`].
    pub genre: usize,
    /// Cross-validation fold, `0..N_FOLDS`; `None`: on the training side of every fold.
    pub fold: Option<usize>,
    /// Listed in `other-artists.txt`: a clip of an artist the numbered clips do not cover.
    pub other_artist: bool,
    /// Artist group (lower case); clips of one group never sit in two folds.
    pub artist: String,
    pub source: Source,
    /// Trained on (where its fold is not held out); `false`: only scored.
    pub trained: bool,
}

impl Clip {
    /// Whether cross-validation scores it: whole clips only (an excerpt is shorter than one
    /// device window, and the device's window rule cannot score it).
    pub fn scored(&self) -> bool {
        !matches!(self.source, Source::MoreExcerpt | Source::MoreStyle)
    }
}

/// Which clips cross-validation holds out together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Split {
    /// Artist-disjoint folds over every whole clip (GTZAN and more-clips).
    Artists,
    /// `folds.csv` over the GTZAN clips (more-clips on the training side of every fold).
    Gtzan,
}

/// Reads `artists.csv` (`name,artist,title`) into `name → artist` (empty when unknown); a
/// missing file gives an empty map.
///
/// # Errors
/// A malformed header.
fn read_artists(path: &Path) -> Result<BTreeMap<String, String>> {
    let Ok(text) = fs::read_to_string(path) else {
        return Ok(BTreeMap::new());
    };
    let mut rows = csv_rows(&text);
    if rows.next().as_deref().map(|r| &r[..2]) != Some(&["name".into(), "artist".into()]) {
        bail!(
            "{}: the first line must be `name,artist,title`",
            path.display()
        );
    }
    Ok(rows
        .filter(|r| r.len() >= 2)
        .map(|r| (r[0].clone(), r[1].trim().to_lowercase()))
        .collect())
}

/// Splits CSV text into rows of fields (double-quoted fields may hold commas and `""`).
fn csv_rows(text: &str) -> impl Iterator<Item = Vec<String>> + '_ {
    text.lines().filter(|l| !l.trim().is_empty()).map(|line| {
        let (mut fields, mut field) = (Vec::new(), String::new());
        let mut quoted = false;
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '"' if quoted && chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = !quoted,
                ',' if !quoted => fields.push(std::mem::take(&mut field)),
                c => field.push(c),
            }
        }
        fields.push(field);
        fields
    })
}

/// The GTZAN name (`blues.00012`) of a file name, if it is one.
fn gtzan_name(file: &str) -> Option<(&str, u32)> {
    let stem = file.rsplit('/').next()?.split_once('.')?;
    let number = stem.1.get(..5)?.parse().ok()?;
    Some((stem.0, number))
}

/// The artist group of a GTZAN name: its artist from `artists.csv`; for a name without one,
/// the artists of its nearest named neighbours (GTZAN orders clips by artist), joined, so
/// that such a clip stays with both possible artists.
fn gtzan_artist(artists: &BTreeMap<String, String>, name: &str) -> String {
    match artists.get(name) {
        Some(a) if !a.is_empty() => a.clone(),
        _ => {
            let Some((genre, number)) = gtzan_name(name) else {
                return format!("?{name}");
            };
            let named = |n: u32| {
                artists
                    .get(&format!("{genre}.{n:05}"))
                    .filter(|a| !a.is_empty())
                    .cloned()
            };
            let below = (0..number).rev().find_map(named);
            let above = (number + 1..1000).find_map(named);
            match (below, above) {
                (Some(b), Some(a)) if a != b => format!("{b}|{a}"),
                (Some(x), _) | (_, Some(x)) => x,
                (None, None) => format!("?{name}"),
            }
        }
    }
}

/// Assigns each artist group holding a scored clip to one of [`N_FOLDS`] folds, balancing
/// the genres: groups in order of size (largest first, then by name), each to the fold where
/// its clips' genres are rarest so far (then the smallest fold, then the lowest index).
/// Groups joined by `|` (unknown artist between two named ones) are merged with both first.
/// Clips of groups without a scored clip get `None` (training side of every fold).
pub fn assign_artist_folds(clips: &mut [Clip]) {
    // Union-find over the artist names, so "a|b" joins the groups of a and b.
    let mut parent: HashMap<String, String> = HashMap::new();
    fn find(parent: &mut HashMap<String, String>, x: &str) -> String {
        let p = parent.get(x).cloned().unwrap_or_else(|| x.to_owned());
        if p == x {
            return p;
        }
        let root = find(parent, &p);
        parent.insert(x.to_owned(), root.clone());
        root
    }
    for clip in clips.iter() {
        let parts: Vec<&str> = clip.artist.split('|').collect();
        let first = find(&mut parent, parts[0]);
        for part in &parts[1..] {
            let other = find(&mut parent, part);
            if other != first {
                let (lo, hi) = if other < first {
                    (other, first.clone())
                } else {
                    (first.clone(), other)
                };
                parent.insert(hi, lo);
            }
        }
    }
    let root = |parent: &mut HashMap<String, String>, artist: &str| {
        find(parent, artist.split('|').next().unwrap_or(artist))
    };
    let mut groups: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, clip) in clips.iter().enumerate() {
        if clip.scored() {
            groups
                .entry(root(&mut parent, &clip.artist))
                .or_default()
                .push(i);
        }
    }
    let mut order: Vec<(&String, &Vec<usize>)> = groups.iter().collect();
    order.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(b.0)));
    let mut per_genre = [[0usize; GENRES.len()]; N_FOLDS];
    let mut fold_of: HashMap<String, usize> = HashMap::new();
    for (key, members) in order {
        let cost = |f: usize| {
            let same: usize = members.iter().map(|&i| per_genre[f][clips[i].genre]).sum();
            let size: usize = per_genre[f].iter().sum();
            (same, size, f)
        };
        let fold = (0..N_FOLDS).min_by_key(|&f| cost(f)).unwrap_or(0);
        for &i in members {
            per_genre[fold][clips[i].genre] += 1;
        }
        fold_of.insert(key.clone(), fold);
    }
    for clip in clips.iter_mut() {
        let key = root(&mut parent, &clip.artist);
        clip.fold = fold_of.get(&key).copied();
    }
}

/// Reads `more-clips/clips.csv` (`path,genre,kind,gtzan_name,artist,title,note,…`): GTZAN
/// clips and excerpts get their artist group as in `artists.csv`; other-source clips the
/// artist their note names (`named "x" (Artist)`), else none (style samples, training only).
///
/// # Errors
/// A missing or malformed `clips.csv`, or an unknown genre.
pub fn load_more(
    dir: &Path,
    artists: &BTreeMap<String, String>,
    clips_per_genre: Option<usize>,
) -> Result<Vec<Clip>> {
    let index = dir.join("clips.csv");
    let text = fs::read_to_string(&index)
        .with_context(|| format!("reading {} (the more-clips index)", index.display()))?;
    let mut rows = csv_rows(&text);
    let header = rows.next().unwrap_or_default();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .with_context(|| format!("{}: no column `{name}`", index.display()))
    };
    let (c_path, c_genre, c_kind, c_gtzan, c_artist, c_note) = (
        col("path")?,
        col("genre")?,
        col("kind")?,
        col("gtzan_name")?,
        col("artist")?,
        col("note")?,
    );
    let mut taken = [0usize; GENRES.len()];
    let mut clips = Vec::new();
    for (i, row) in rows.enumerate() {
        let field = |c: usize| row.get(c).map_or("", String::as_str);
        let genre = GENRES
            .iter()
            .position(|g| *g == field(c_genre))
            .with_context(|| format!("{} line {}: unknown genre", index.display(), i + 2))?;
        if clips_per_genre.is_some_and(|n| taken[genre] >= n) {
            continue;
        }
        taken[genre] += 1;
        let gtzan = field(c_gtzan);
        let given = field(c_artist).trim().to_lowercase();
        let named = field(c_note)
            .split_once("named \"")
            .and_then(|(_, rest)| rest.split_once("\" ("))
            .and_then(|(_, rest)| rest.split_once(')'))
            .map(|(artist, _)| artist.trim().to_lowercase());
        let (source, artist) = match field(c_kind) {
            "gtzan-clip" | "gtzan-excerpt" => {
                let artist = if given.is_empty() {
                    gtzan_artist(artists, gtzan)
                } else {
                    given
                };
                let kind = if field(c_kind) == "gtzan-clip" {
                    Source::MoreClip
                } else {
                    Source::MoreExcerpt
                };
                (kind, artist)
            }
            _ => match named {
                Some(artist) => (Source::MoreClip, artist),
                None => (Source::MoreStyle, format!("?{}", field(c_path))),
            },
        };
        clips.push(Clip {
            path: dir.join(field(c_path)),
            name: format!("more-clips/{}", field(c_path)),
            genre,
            fold: None,
            other_artist: false,
            artist,
            source,
            trained: true,
        });
    }
    Ok(clips)
}

/// Lists the clips under `dir` and, with `more`, the more-clips folder, and assigns the folds
/// of `split`: `folds.csv` (where listed, otherwise contiguous pairs of clip numbers) or
/// artist-disjoint folds ([`assign_artist_folds`]).
///
/// # Errors
/// A missing `genres/` folder, unknown genre folders, a malformed `folds.csv`,
/// `artists.csv` or `clips.csv`, or no clips: the message says how to get GTZAN and how to
/// point at it.
pub fn load(
    dir: &Path,
    more: Option<&Path>,
    split: Split,
    clips_per_genre: Option<usize>,
) -> Result<Vec<Clip>> {
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
    let artists = read_artists(&dir.join("artists.csv"))?;
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
            let file = path.file_stem().unwrap_or_default().to_string_lossy();
            clips.push(Clip {
                artist: gtzan_artist(&artists, &file),
                path,
                name: rel,
                genre,
                fold: Some(fold),
                other_artist,
                source: if other_artist {
                    Source::GtzanOther
                } else {
                    Source::GtzanNumbered
                },
                trained: true,
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
    if let Some(more) = more {
        clips.extend(load_more(more, &artists, clips_per_genre)?);
    }
    if split == Split::Artists {
        assign_artist_folds(&mut clips);
    }
    Ok(clips)
}

/// The clip paths (relative, as in `folds.csv`) listed in `other-artists.txt`, one per line;
/// a missing file lists none.
fn read_other_artists(path: &Path) -> HashSet<String> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn clip(genre: usize, artist: &str, source: Source) -> Clip {
        Clip {
            path: PathBuf::new(),
            name: format!("{artist}-{genre}"),
            genre,
            fold: None,
            other_artist: false,
            artist: artist.to_owned(),
            source,
            trained: true,
        }
    }

    #[test]
    fn artist_folds_never_split_an_artist_and_balance_genres() {
        let mut clips = Vec::new();
        for g in 0..GENRES.len() {
            for a in 0..7 {
                for _ in 0..=(a % 3) {
                    clips.push(clip(g, &format!("artist {g}-{a}"), Source::GtzanNumbered));
                }
            }
        }
        // An unknown artist between two named ones joins both; an excerpt follows its artist;
        // a style sample with no artist trains in every fold.
        clips.push(clip(0, "artist 0-1|artist 0-2", Source::MoreClip));
        clips.push(clip(0, "artist 0-3", Source::MoreExcerpt));
        clips.push(clip(0, "lonely", Source::MoreExcerpt));
        clips.push(clip(1, "?style", Source::MoreStyle));
        assign_artist_folds(&mut clips);
        let mut fold_of: HashMap<&str, Option<usize>> = HashMap::new();
        for c in &clips {
            for part in c.artist.split('|') {
                let seen = *fold_of.entry(part).or_insert(c.fold);
                assert_eq!(seen, c.fold, "{} sits in two folds", c.artist);
            }
        }
        assert_eq!(fold_of["artist 0-1"], fold_of["artist 0-2"]);
        assert_eq!(fold_of["lonely"], None);
        assert_eq!(fold_of["?style"], None);
        for g in 0..GENRES.len() {
            let per_fold: Vec<usize> = (0..N_FOLDS)
                .map(|f| {
                    clips
                        .iter()
                        .filter(|c| c.scored() && c.genre == g && c.fold == Some(f))
                        .count()
                })
                .collect();
            // Within the largest group: 3 clips, or genre 0's joined group of 6.
            let largest = if g == 0 { 6 } else { 3 };
            let (lo, hi) = (per_fold.iter().min(), per_fold.iter().max());
            assert!(
                hi.zip(lo).is_some_and(|(h, l)| h - l <= largest),
                "genre {g}: {per_fold:?}"
            );
        }
    }

    #[test]
    fn unknown_gtzan_artist_takes_its_named_neighbours() {
        let artists: BTreeMap<String, String> = [
            ("metal.00005", "a"),
            ("metal.00006", ""),
            ("metal.00007", "b"),
            ("metal.00008", ""),
            ("metal.00009", "b"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        assert_eq!(gtzan_artist(&artists, "metal.00006"), "a|b");
        assert_eq!(gtzan_artist(&artists, "metal.00008"), "b");
        assert_eq!(gtzan_artist(&artists, "metal.00005"), "a");
        assert_eq!(gtzan_artist(&artists, "pop.00001"), "?pop.00001");
    }

    #[test]
    fn csv_fields_may_be_quoted() {
        let rows: Vec<Vec<String>> = csv_rows("a,\"b, \"\"c\"\"\",d\n\n").collect();
        assert_eq!(
            rows,
            vec![vec!["a".to_owned(), "b, \"c\"".to_owned(), "d".to_owned()]]
        );
    }
}
