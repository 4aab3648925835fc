//! Picks the libtorch device: CUDA where the full CUDA stack is present, else the CPU.

use tch::Device;

/// Loads `libtorch_cuda.so` (if present) so that libtorch registers its CUDA backend, then
/// returns `Device::Cuda(0)` when CUDA is usable and `Device::Cpu` otherwise, logging which.
///
/// rustc links with `--as-needed`, so the binary does not depend on `libtorch_cuda.so` (no
/// symbol of it is referenced) and tch would silently stay on the CPU without this load.
pub fn select() -> Device {
    let loaded = load_cuda_backend();
    let device = if tch::Cuda::is_available() {
        Device::Cuda(0)
    } else {
        Device::Cpu
    };
    match device {
        Device::Cuda(_) => eprintln!(
            "device: cuda ({} device(s), cudnn {})",
            tch::Cuda::device_count(),
            tch::Cuda::cudnn_is_available()
        ),
        _ => eprintln!(
            "device: cpu ({} threads; libtorch_cuda {})",
            tch::get_num_threads(),
            if loaded {
                "loaded but no usable GPU"
            } else {
                "not present"
            }
        ),
    }
    device
}

/// Short name of a device for the model card.
pub fn name(device: Device) -> &'static str {
    match device {
        Device::Cpu => "cpu",
        Device::Cuda(_) => "cuda",
        _ => "other",
    }
}

fn load_cuda_backend() -> bool {
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
    };
    match lib {
        Ok(lib) => {
            std::mem::forget(lib);
            true
        }
        Err(_) => false,
    }
}
