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
    /// (ground times), with the coarse value reached.
    public func wraps(fromT: Double, toT: Double) -> [(coarse: UInt64, t: Double)] {
        let first = sclk(t: fromT), last = sclk(t: toT)
        guard last >= first else { return [] }
        var k = (first / SpacecraftClock.wrapPeriod).rounded(.up)
        var result: [(UInt64, Double)] = []
        while k * SpacecraftClock.wrapPeriod <= last {
            let s = k * SpacecraftClock.wrapPeriod
            result.append((UInt64(s), t(sclk: s)))
            k += 1
        }
        return result
    }
}
