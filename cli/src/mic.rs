//! The default microphone (feature `mic`, through cpal): its blocks are down-mixed, resampled
//! to 16 kHz and fed to the same report as `--stdin`.

use std::io::Write;
use std::num::NonZeroU16;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, SyncSender};
use std::sync::Arc;

use anyhow::{anyhow, bail, Context, Result};
use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use cpal::{ErrorKind, FromSample, SampleFormat, SizedSample, StreamConfig};
use genre_audio::{downmix, to_i16, Resampler16k};

use crate::listen::Reporter;

/// Input blocks the audio thread may queue ahead of the classifier (each typically 10 ms);
/// beyond that, blocks are dropped and counted rather than buffered without bound.
const QUEUE_BLOCKS: usize = 512;

/// What the audio thread sends.
enum Message {
    /// Interleaved samples in [-1, 1].
    Audio(Vec<f32>),
    /// The stream failed for good.
    Failed(cpal::Error),
}

/// Classifies the default input device until the stream fails or the process is stopped.
///
/// # Errors
/// No input device, no usable configuration, an unsupported sample format, a failed stream,
/// or the report's output fails.
pub fn listen<W: Write>(reporter: &mut Reporter<'_, W>) -> Result<()> {
    let host = cpal::default_host();
    let device = host.default_input_device().ok_or_else(|| {
        anyhow!(
            "no audio input device found (audio host {:?}): connect a microphone, or pipe 16 kHz \
             PCM in with --stdin",
            host.id()
        )
    })?;
    let name = device.description().map_or_else(
        |_| "the default input device".to_owned(),
        |d| d.name().to_owned(),
    );
    let supported = device.default_input_config().map_err(|e| {
        anyhow!("no usable audio input ({name}: {e}): connect a microphone, or use --stdin")
    })?;
    let rate = supported.sample_rate();
    let channels = NonZeroU16::new(supported.channels())
        .ok_or_else(|| anyhow!("{name}: reports 0 input channels"))?;
    let format = supported.sample_format();
    let config: StreamConfig = supported.into();
    let mut resampler =
        Resampler16k::new(rate).with_context(|| format!("{name}: input at {rate} Hz"))?;

    let (tx, rx) = sync_channel(QUEUE_BLOCKS);
    let dropped = Arc::new(AtomicU64::new(0));
    let stream = match format {
        SampleFormat::F32 => open::<f32>(&device, config, tx, &dropped),
        SampleFormat::I16 => open::<i16>(&device, config, tx, &dropped),
        SampleFormat::I32 => open::<i32>(&device, config, tx, &dropped),
        SampleFormat::U16 => open::<u16>(&device, config, tx, &dropped),
        SampleFormat::I8 => open::<i8>(&device, config, tx, &dropped),
        SampleFormat::U8 => open::<u8>(&device, config, tx, &dropped),
        other => bail!("{name}: unsupported input sample format {other}"),
    }
    .with_context(|| format!("{name}: cannot open the input stream"))?;
    stream
        .play()
        .with_context(|| format!("{name}: cannot start the input stream"))?;
    eprintln!("listening to {name} ({rate} Hz, {channels} channel(s)); Ctrl-C stops");

    let (mut mono, mut resampled) = (Vec::new(), Vec::new());
    for message in rx {
        let block = match message {
            Message::Audio(block) => block,
            Message::Failed(e) => bail!("{name}: the input stream failed: {e}"),
        };
        mono.clear();
        downmix(&block, channels, &mut mono);
        resampled.clear();
        resampler.push(&mono, &mut resampled)?;
        reporter.push(&to_i16(&resampled))?;
        let lost = dropped.swap(0, Ordering::Relaxed);
        if lost > 0 {
            eprintln!("warning: {lost} input block(s) dropped: classification fell behind");
        }
    }
    bail!("{name}: the input stream ended")
}

/// Opens an input stream of samples `T` that sends each block, as `f32`, through `tx`.
fn open<T>(
    device: &cpal::Device,
    config: StreamConfig,
    tx: SyncSender<Message>,
    dropped: &Arc<AtomicU64>,
) -> Result<cpal::Stream, cpal::Error>
where
    T: SizedSample,
    f32: FromSample<T>,
{
    let failed = tx.clone();
    let dropped = Arc::clone(dropped);
    device.build_input_stream(
        config,
        move |data: &[T], _: &cpal::InputCallbackInfo| {
            let block = data.iter().map(|&s| s.to_sample::<f32>()).collect();
            if tx.try_send(Message::Audio(block)).is_err() {
                dropped.fetch_add(1, Ordering::Relaxed);
            }
        },
        move |e: cpal::Error| match e.kind() {
            // Glitches and rerouting: the stream goes on.
            ErrorKind::Xrun | ErrorKind::DeviceChanged | ErrorKind::RealtimeDenied => {
                eprintln!("warning: audio input: {e}");
            }
            // Waits for room in the queue; fails only when the classifier has already stopped.
            _ => drop(failed.send(Message::Failed(e))),
        },
        None,
    )
}
