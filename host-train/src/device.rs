//! Picks the libtorch device: `--device auto` (the default) takes CUDA where the full CUDA
//! stack and a GPU are present, else the CPU; `--device cuda` fails when CUDA cannot be used
//! instead of falling back; `--device cpu` never loads CUDA.

use anyhow::{bail, Result};
use tch::Device;

/// The `--device` choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Choice {
    /// CUDA when libtorch_cuda loads and sees a GPU, else the CPU.
    Auto,
    /// The CPU.
    Cpu,
    /// CUDA device 0, or an error saying why CUDA cannot be used.
    Cuda,
}

/// Returns the device for `choice` and prints which one is used (and why) to stderr.
///
/// Loads `libtorch_cuda.so` (if present) so that libtorch registers its CUDA backend: rustc
/// links with `--as-needed`, so the binary does not depend on `libtorch_cuda.so` (no symbol
/// of it is referenced) and tch would silently stay on the CPU without this load.
///
/// # Errors
/// `Choice::Cuda` when libtorch_cuda cannot be loaded (its missing library named) or
/// libtorch sees no usable GPU.
pub fn select(choice: Choice) -> Result<Device> {
    if choice == Choice::Cpu {
        eprintln!(
            "device: cpu (--device cpu; {} threads)",
            tch::get_num_threads()
        );
        return Ok(Device::Cpu);
    }
    let loaded = load_cuda_backend();
    if tch::Cuda::is_available() {
        eprintln!(
            "device: cuda ({} device(s), cudnn {})",
            tch::Cuda::device_count(),
            tch::Cuda::cudnn_is_available()
        );
        return Ok(Device::Cuda(0));
    }
    let why = match &loaded {
        Ok(()) => "libtorch_cuda loaded, but libtorch sees no usable GPU".to_owned(),
        Err(e) => format!("libtorch_cuda cannot be loaded: {e}"),
    };
    if choice == Choice::Cuda {
        bail!(
            "--device cuda: {why}. scripts/setup-python installs the CUDA stack when an NVIDIA \
             GPU answers nvidia-smi (a venv set up without one has only the CPU set: rerun it); \
             --device cpu or auto to train on the CPU"
        );
    }
    eprintln!(
        "device: cpu ({} threads; no CUDA: {why})",
        tch::get_num_threads()
    );
    Ok(Device::Cpu)
}

/// Short name of a device for the model card.
pub fn name(device: Device) -> &'static str {
    match device {
        Device::Cpu => "cpu",
        Device::Cuda(_) => "cuda",
        _ => "other",
    }
}

fn load_cuda_backend() -> Result<(), libloading::Error> {
    // Safety: loading libtorch_cuda.so runs its static initialisers, which only register the
    // CUDA backend with the libtorch already mapped into this process (same build, found on
    // the same library path); no symbol is called through the handle. RTLD_GLOBAL makes its
    // symbols visible to libtorch's own later lookups. The handle is leaked on purpose: the
    // library must stay loaded for the life of the process.
    let lib = unsafe {
        libloading::os::unix::Library::open(
            Some("libtorch_cuda.so"),
            libloading::os::unix::RTLD_NOW | libloading::os::unix::RTLD_GLOBAL,
        )
    }?;
    std::mem::forget(lib);
    Ok(())
}
