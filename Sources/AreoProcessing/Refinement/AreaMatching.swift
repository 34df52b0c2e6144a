import Foundation

/// Area-based image matching on one map grid: normalised cross-correlation of windows, a
/// coarse-to-fine search for the overall shift, then windows ("chips") matched around it and
/// refined to sub-pixel by fitting a paraboloid to the correlation peak.
///
/// Shifts are those of the *fixed* image relative to the *moving* one: the content at pixel
/// (x, y) of the moving image is at (x + dx, y + dy) in the fixed image.
public enum AreaMatching {
    /// A single-band raster, row-major; NaN is no data.
    public struct Image: Sendable {
        public let width: Int
        public let height: Int
        public var values: [Float]

        public init(width: Int, height: Int, values: [Float]) {
            precondition(values.count == width * height)
            (self.width, self.height, self.values) = (width, height, values)
        }

        @inline(__always) func at(_ x: Int, _ y: Int) -> Float {
            guard x >= 0, y >= 0, x < width, y < height else { return .nan }
            return values[y * width + x]
        }

        /// Half the size: the mean of each 2 × 2 block's data (no data when fewer than 3 of 4 are).
        public func halved() -> Image {
            let w = max(1, width / 2), h = max(1, height / 2)
            var out = [Float](repeating: .nan, count: w * h)
            for y in 0..<h {
                for x in 0..<w {
                    var sum: Float = 0, n = 0
                    for (a, b) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                        let v = at(2 * x + a, 2 * y + b)
                        if v.isFinite { sum += v; n += 1 }
                    }
                    if n >= 3 { out[y * w + x] = sum / Float(n) }
                }
            }
            return Image(width: w, height: h, values: out)
        }

        /// Blocks of `factor` × `factor` averaged (no data unless three quarters are data).
        public func binned(_ factor: Int) -> Image {
            guard factor > 1 else { return self }
            let w = width / factor, h = height / factor
            var out = [Float](repeating: .nan, count: w * h)
            let needed = (factor * factor * 3 + 3) / 4
            for y in 0..<h {
                for x in 0..<w {
                    var sum: Float = 0, n = 0
                    for b in 0..<factor {
                        let row = (y * factor + b) * width + x * factor
                        for a in 0..<factor where values[row + a].isFinite { sum += values[row + a]; n += 1 }
                    }
                    if n >= needed { out[y * w + x] = sum / Float(n) }
                }
            }
            return Image(width: w, height: h, values: out)
        }
    }

    /// The correlation of the moving window centred at (cx, cy), `half` pixels each side
    /// (sampled every `step`), with the fixed image shifted by (dx, dy); nil when less than the
    /// fraction `overlap` of the moving window's data meets the fixed image's, or either has no contrast.
    static func correlation(
        _ moving: Image, _ fixed: Image, cx: Int, cy: Int, halfX: Int, halfY: Int, step: Int, dx: Int, dy: Int, overlap: Double
    ) -> Double? {
        var n = 0.0, sa = 0.0, sb = 0.0, saa = 0.0, sbb = 0.0, sab = 0.0, present = 0.0
        var y = cy - halfY
        while y <= cy + halfY {
            var x = cx - halfX
            while x <= cx + halfX {
                let a = moving.at(x, y), b = fixed.at(x + dx, y + dy)
                if a.isFinite { present += 1 }
                if a.isFinite, b.isFinite {
                    let (da, db) = (Double(a), Double(b))
                    n += 1; sa += da; sb += db; saa += da * da; sbb += db * db; sab += da * db
                }
                x += step
            }
            y += step
        }
        guard n >= max(16, present * overlap) else { return nil }
        let va = saa - sa * sa / n, vb = sbb - sb * sb / n
        guard va > 0, vb > 0 else { return nil }
        return (sab - sa * sb / n) / (va * vb).squareRoot()
    }

    /// One match: the shift, its correlation, and how far above the best correlation away from
    /// the peak it stands (distinctness).
    public struct Match: Sendable, Equatable {
        public var dx: Double
        public var dy: Double
        public var score: Double
        public var distinctness: Double
    }

    /// The best shift of the window centred at (cx, cy) within `search` pixels of (x0, y0),
    /// sub-pixel from a paraboloid through the peak and its neighbours; nil when the peak is on
    /// the edge of the search (the shift lies beyond it) or no correlation could be measured.
    static func bestShift(
        _ moving: Image, _ fixed: Image, cx: Int, cy: Int, halfX: Int, halfY: Int, step: Int, around x0: Int, _ y0: Int, search: Int, overlap: Double
    ) -> Match? {
        let side = 2 * search + 1
        var scores = [Double](repeating: -.infinity, count: side * side)
        var best = (-Double.infinity, 0, 0)
        for j in -search...search {
            for i in -search...search {
                guard let r = correlation(moving, fixed, cx: cx, cy: cy, halfX: halfX, halfY: halfY, step: step, dx: x0 + i, dy: y0 + j, overlap: overlap) else { continue }
                scores[(j + search) * side + i + search] = r
                if r > best.0 { best = (r, i, j) }
            }
        }
        let (peak, bi, bj) = best
        guard peak.isFinite, abs(bi) < search, abs(bj) < search else { return nil }
        func s(_ i: Int, _ j: Int) -> Double { scores[(j + search) * side + i + search] }
        var away = -1.0
        for j in -search...search {
            for i in -search...search where abs(i - bi) > 1 || abs(j - bj) > 1 { away = max(away, s(i, j)) }
        }
        // Separable parabolas through the peak's neighbours.
        func vertex(_ minus: Double, _ centre: Double, _ plus: Double) -> Double {
            let d = minus - 2 * centre + plus
            guard minus.isFinite, plus.isFinite, d < 0 else { return 0 }
            return max(-0.5, min(0.5, 0.5 * (minus - plus) / d))
        }
        let fx = vertex(s(bi - 1, bj), peak, s(bi + 1, bj)), fy = vertex(s(bi, bj - 1), peak, s(bi, bj + 1))
        return Match(dx: Double(x0 + bi) + fx, dy: Double(y0 + bj) + fy, score: peak, distinctness: peak - away)
    }

    /// The overall shift of `fixed` against `moving` up to `maximum` pixels, coarse to fine:
    /// exhaustively at the level where the search is at most 4 pixels, then ±2 pixels at each
    /// finer level. Correlates the whole overlap (sampled to about 40 000 pixels).
    public static func overallShift(_ moving: Image, _ fixed: Image, maximum: Int) -> Match? {
        var levels = [(moving, fixed)]
        var reach = max(1, maximum)
        while reach > 4, levels.last!.0.width >= 32, levels.last!.0.height >= 32 {
            let (m, f) = levels.last!
            levels.append((m.halved(), f.halved()))
            reach = (reach + 1) / 2
        }
        var estimate: Match? = nil
        for (index, (m, f)) in levels.enumerated().reversed() {
            let step = max(1, Int((Double(m.width * m.height) / 40_000).squareRoot()))
            let (x0, y0) = estimate.map { (Int(($0.dx * 2).rounded()), Int(($0.dy * 2).rounded())) } ?? (0, 0)
            // At the coarsest level at most ±24 pixels (the pyramid stops at 32 pixels): a shift
            // beyond is not searched (what a hostile scale would ask costs no more than this).
            let search = estimate == nil ? min(reach + 1, 24) : 2
            // Images of overlapping observations may share a fifth of their ground.
            guard let found = bestShift(m, f, cx: m.width / 2, cy: m.height / 2, halfX: m.width / 2, halfY: m.height / 2, step: step,
                                        around: x0, y0, search: search, overlap: 0.2) else { return nil }
            estimate = found
            if index == 0 { return found }
        }
        return estimate
    }

    /// What a chip must show to be matched: contrast (standard deviation over mean) of at least
    /// `minimumContrast`, and its match a correlation of at least `minimumScore` standing
    /// `minimumDistinctness` above any other shift.
    public struct ChipRules: Sendable {
        public var half = 10
        public var spacing = 10
        public var search = 3
        public var minimumContrast = 0.01
        public var minimumScore = 0.6
        public var minimumDistinctness = 0.05
        public init() {}
    }

    /// A chip's match: its centre in the moving image and the shift found there.
    public struct ChipMatch: Sendable, Equatable {
        public var x: Int
        public var y: Int
        public var match: Match
    }

    /// The contrast of the moving chip at (cx, cy): standard deviation over |mean|; nil when it has too little data.
    static func contrast(_ image: Image, cx: Int, cy: Int, half: Int) -> Double? {
        var n = 0.0, s = 0.0, ss = 0.0
        for y in (cy - half)...(cy + half) {
            for x in (cx - half)...(cx + half) {
                let v = image.at(x, y)
                if v.isFinite { n += 1; s += Double(v); ss += Double(v) * Double(v) }
            }
        }
        let side = Double(2 * half + 1)
        guard n >= 0.9 * side * side else { return nil }
        let mean = s / n
        return (max(0, ss / n - mean * mean)).squareRoot() / max(abs(mean), 1e-6)
    }

    /// Chips on a regular grid of the moving image matched within `rules.search` of the overall
    /// shift; returns the matches that pass the rules and how many chips had contrast enough to try.
    public static func chips(_ moving: Image, _ fixed: Image, around overall: Match, rules: ChipRules = ChipRules()) -> (matches: [ChipMatch], textured: Int) {
        let (x0, y0) = (Int(overall.dx.rounded()), Int(overall.dy.rounded()))
        var matches: [ChipMatch] = []
        var textured = 0
        var cy = rules.half
        while cy < moving.height - rules.half {
            var cx = rules.half
            while cx < moving.width - rules.half {
                defer { cx += rules.spacing }
                guard let c = contrast(moving, cx: cx, cy: cy, half: rules.half), c >= rules.minimumContrast else { continue }
                textured += 1
                // Most of a chip must meet the fixed image.
                guard let m = bestShift(moving, fixed, cx: cx, cy: cy, halfX: rules.half, halfY: rules.half, step: 1, around: x0, y0, search: rules.search, overlap: 0.6),
                      m.score >= rules.minimumScore, m.distinctness >= rules.minimumDistinctness else { continue }
                matches.append(ChipMatch(x: cx, y: cy, match: m))
            }
            cy += rules.spacing
        }
        return (matches, textured)
    }
}
