//! One cfg alias for the target-specific kernels in `src/arch/`: `arm_dsp` on Arm with the
//! hard-float ABI (Cortex-M4F/M7: DSP extension and FPU), so that no other file repeats the
//! condition.
fn main() {
    cfg_aliases::cfg_aliases! {
        arm_dsp: { all(target_arch = "arm", target_abi = "eabihf") },
    }
}
