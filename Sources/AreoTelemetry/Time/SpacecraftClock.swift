/// A spacecraft clock reading (ICD §1): 32-bit coarse seconds and 16-bit fine ticks of 1/65536 s.
public struct SpacecraftClock: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public var coarse: UInt32
    public var fine: UInt16

    /// Seconds between two coarse-clock wraps of the low 16 bits (ICD §6).
    public static let wrapPeriod: Double = 65_536

    public init(coarse: UInt32, fine: UInt16) {
        self.coarse = coarse
        self.fine = fine
    }

    /// From seconds as a float, rounding to the nearest fine tick.
    public init(seconds: Double) {
        let ticks = (seconds * 65_536).rounded()
        self.coarse = UInt32(clamping: Int64(ticks / 65_536))
        self.fine = UInt16(clamping: Int64(ticks) - Int64(coarse) * 65_536)
    }

    /// `coarse + fine/65536`.
    public var seconds: Double { Double(coarse) + Double(fine) / 65_536 }

    /// Fine ticks since the clock's epoch, exact.
    public var ticks: Int64 { Int64(coarse) << 16 | Int64(fine) }

    public var description: String { "\(coarse).\(fine)" }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.ticks < rhs.ticks }

    /// The same reading with `wraps` × 65 536 s removed from the coarse part (a negative number adds).
    public func shifted(byWraps wraps: Int) -> SpacecraftClock {
        SpacecraftClock(coarse: UInt32(truncatingIfNeeded: Int64(coarse) - Int64(wraps) * 65_536), fine: fine)
    }
}
