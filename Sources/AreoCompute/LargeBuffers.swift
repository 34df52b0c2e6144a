#if canImport(Glibc)
import Glibc
#endif

/// Grid-sized buffers (hundreds of megabytes for a 4 m composite). On Linux their pages are
/// asked for as transparent huge pages before they are first touched: one fault per 2 MiB
/// instead of per 4 KiB, which on a virtual machine is most of the cost of fresh memory
/// (measured: 512 MiB first touched 1.5× faster; docs/operations.md, "A product with every
/// CaSSIS correction"). Where the kernel declines (THP off), nothing changes.
public enum LargeBuffers {
    /// Buffers smaller than this are left alone (they rarely span a whole huge page).
    public static let minimumBytes = 8 << 20

    /// Advises huge pages for the whole 2 MiB pages inside `buffer` (call before writing it).
    public static func preferHugePages(_ buffer: UnsafeMutableRawBufferPointer) {
        #if os(Linux)
        guard buffer.count >= minimumBytes, let base = buffer.baseAddress else { return }
        let page = 2 << 20
        let start = (Int(bitPattern: base) + page - 1) & ~(page - 1), end = (Int(bitPattern: base) + buffer.count) & ~(page - 1)
        guard end > start, let aligned = UnsafeMutableRawPointer(bitPattern: start) else { return }
        _ = madvise(aligned, end - start, 14)  // MADV_HUGEPAGE
        #endif
    }

    /// An array of `count` elements made by `initialize` (which must set every one), its pages
    /// advised as huge first.
    public static func array<T: BitwiseCopyable>(count: Int, _ initialize: (UnsafeMutableBufferPointer<T>) -> Void) -> [T] {
        [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            preferHugePages(UnsafeMutableRawBufferPointer(buffer))
            initialize(buffer)
            initialized = count
        }
    }
}
