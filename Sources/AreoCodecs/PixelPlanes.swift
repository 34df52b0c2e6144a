/// 8-bit images held as separate planes (red, green, blue), as products make them.
public enum PixelPlanes {
    /// Red, green and blue: three planes as given; fewer are completed by repeating the last
    /// (one plane is a grey image shown in colour).
    public static func rgb(_ planes: [[UInt8]]) -> [[UInt8]] {
        planes.count >= 3 ? Array(planes.prefix(3)) : (0..<3).map { planes[min($0, planes.count - 1)] }
    }

    /// Three planes of `count` pixels interleaved (RGBRGB…).
    public static func interleaved(_ planes: [[UInt8]], count: Int) -> [UInt8] {
        precondition(planes.count == 3 && planes.allSatisfy { $0.count >= count })
        return [UInt8](unsafeUninitializedCapacity: count * 3) { out, initialized in
            planes[0].withUnsafeBufferPointer { r in
                planes[1].withUnsafeBufferPointer { g in
                    planes[2].withUnsafeBufferPointer { b in
                        for k in 0..<count { (out[3 * k], out[3 * k + 1], out[3 * k + 2]) = (r[k], g[k], b[k]) }
                    }
                }
            }
            initialized = count * 3
        }
    }
}
