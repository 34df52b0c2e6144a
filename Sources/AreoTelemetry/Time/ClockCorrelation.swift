/// SCLK → ground time from a kernel's clock correlation points (ICD §1, §7): piecewise linear
/// between points; before the first / after the last point the nearest segment's rate is
/// extended; with a single point, rate 1.0.
public struct ClockCorrelation: Sendable, Equatable {
    public struct Point: Sendable, Equatable, Codable {
        public var sclk: Double
        public var t: Double
        public init(sclk: Double, t: Double) { self.sclk = sclk; self.t = t }
    }

    /// Points sorted by SCLK.
    public let points: [Point]

    /// - Precondition: at least one point.
    public init(points: [Point]) {
        precondition(!points.isEmpty, "a clock correlation needs at least one point")
        self.points = points.sorted { $0.sclk < $1.sclk }
    }

    /// Ground time of a clock reading (seconds).
    public func t(sclk: Double) -> Double { Self.interpolate(points, at: sclk, from: \.sclk, to: \.t) }

    /// Clock reading at ground time `t` (the inverse; the correlation is monotonic).
    public func sclk(t: Double) -> Double { Self.interpolate(points, at: t, from: \.t, to: \.sclk) }

    /// Piecewise-linear interpolation, extending the nearest segment (rate 1 with a single point).
    private static func interpolate(_ points: [Point], at x: Double, from: KeyPath<Point, Double>, to: KeyPath<Point, Double>) -> Double {
        guard points.count > 1 else { return points[0][keyPath: to] + (x - points[0][keyPath: from]) }
        var upper = points.firstIndex { $0[keyPath: from] > x } ?? points.count - 1
        upper = min(max(upper, 1), points.count - 1)
        let a = points[upper - 1], b = points[upper]
        let rate = (b[keyPath: to] - a[keyPath: to]) / (b[keyPath: from] - a[keyPath: from])
        return a[keyPath: to] + (x - a[keyPath: from]) * rate
    }

    /// The ground times at which the coarse clock passes a multiple of 65 536 s within [from, to]
    /// (ground times), with the coarse value reached: at most `limit` of them, and only where
    /// the clock can read (SCLK 0…2³², ICD §1) — whatever the span asked, nothing here traps.
    public func wraps(fromT: Double, toT: Double, limit: Int = 10_000) -> [(coarse: UInt64, t: Double)] {
        let clockRange = 0.0...4_294_967_296.0
        let first = sclk(t: fromT), last = sclk(t: toT)
        guard first.isFinite, last.isFinite, last >= first, last >= clockRange.lowerBound, first <= clockRange.upperBound else { return [] }
        let period = SpacecraftClock.wrapPeriod
        var k = (max(first, clockRange.lowerBound) / period).rounded(.up)
        let end = min(last, clockRange.upperBound)
        var result: [(UInt64, Double)] = []
        while k * period <= end, result.count < limit {
            let s = k * period
            guard let coarse = UInt64(exactly: s) else { break }
            result.append((coarse, t(sclk: s)))
            k += 1
        }
        return result
    }
}
