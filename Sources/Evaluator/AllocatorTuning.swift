/// The emulator allocates megabyte-sized batches (im2col patches, layer outputs) for every candidate.
/// glibc serves those with fresh mmaps and unmaps them on free, so each evaluation pays page faults
/// and zeroing again. Keeping them in the heap instead lets repeated evaluations reuse the memory.
public enum AllocatorTuning {
    public static func keepLargeAllocations() {
        #if os(Linux)
        // glibc's <malloc.h>: M_TRIM_THRESHOLD = -1, M_MMAP_THRESHOLD = -3 (not exported to Swift).
        _ = mallopt(-3, 512 * 1024 * 1024)
        _ = mallopt(-1, 1024 * 1024 * 1024)
        #endif
    }
}

#if os(Linux)
@_silgen_name("mallopt")
private func mallopt(_ parameter: Int32, _ value: Int32) -> Int32
#endif
