/// Sub-pixel offset between two images of the same ground on the same grid, by iterated
/// Lucas–Kanade: the shift (dx, dy) that best maps `moving` onto `reference` in the least-squares
/// sense, using the pixels where both have values. Used for the quality measures
/// (misregistration between overlapping framelets and between bands, i.e. colour fringing) and
/// by tests comparing products with each other or with truth.
///
/// The gradients are taken from the reference once (where the images agree, the moving image's
/// gradient at the matched point equals the reference's), so each iteration samples the moving
/// image once per pixel; at most about `maximumPixels` (by default ``maximumPixels``) pixels are used (a regular subsample).
public enum Registration {
    public static let maximumPixels = 250_000

    /// The offset in pixels such that `moving(x + dx, y + dy) ≈ reference(x, y)`, with the
    /// number of pixels it rests on; nil when fewer than `minimumPixels` overlap or the overlap
    /// has no texture.
    public static func offset(
        reference: (Int, Int) -> Float, moving: (Int, Int) -> Float, columns: Range<Int>, rows: Range<Int>,
        minimumPixels: Int = 200, iterations: Int = 10, normalize: Bool = false, maximumPixels: Int = Registration.maximumPixels
    ) -> (dx: Double, dy: Double, pixels: Int)? {
        let area = max(1, columns.count * rows.count)
        let stride = max(1, Int((Double(area) / Double(max(1, maximumPixels))).squareRoot().rounded(.up)))
        // Reference values and central-difference gradients, once.
        var points: [(x: Int, y: Int, value: Float, gx: Float, gy: Float)] = []
        for j in Swift.stride(from: rows.lowerBound + 1, to: rows.upperBound - 1, by: stride) {
            for i in Swift.stride(from: columns.lowerBound + 1, to: columns.upperBound - 1, by: stride) {
                let r = reference(i, j)
                let gx = (reference(i + 1, j) - reference(i - 1, j)) / 2, gy = (reference(i, j + 1) - reference(i, j - 1)) / 2
                if r.isFinite, gx.isFinite, gy.isFinite { points.append((i, j, r, gx, gy)) }
            }
        }
        guard points.count >= minimumPixels else { return nil }
        // Different bands see the ground with different gains and offsets: compare standardised
        // values (mean 0, deviation 1 over the points) when asked.
        var (gain, offset): (Float, Float) = (1, 0)
        if normalize {
            let values = points.map(\.value)
            let movingValues = points.map { moving($0.x, $0.y) }.filter(\.isFinite)
            guard movingValues.count >= minimumPixels else { return nil }
            func stats(_ v: [Float]) -> (Float, Float) {
                let mean = v.reduce(0, +) / Float(v.count)
                let variance = v.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Float(v.count)
                return (mean, max(variance.squareRoot(), Float.ulpOfOne))
            }
            let (mr, sr) = stats(values), (mm, sm) = stats(movingValues)
            (gain, offset) = (sr / sm, mr - mm * sr / sm)
        }
        func sample(_ x: Double, _ y: Double) -> Float {
            let x0 = Int(x.rounded(.down)), y0 = Int(y.rounded(.down))
            let tx = Float(x - Double(x0)), ty = Float(y - Double(y0))
            let a = moving(x0, y0), b = moving(x0 + 1, y0), c = moving(x0, y0 + 1), d = moving(x0 + 1, y0 + 1)
            return ((a * (1 - tx) + b * tx) * (1 - ty) + (c * (1 - tx) + d * tx) * ty) * gain + offset
        }
        var dx = 0.0, dy = 0.0, used = 0
        for _ in 0..<iterations {
            var sxx = 0.0, sxy = 0.0, syy = 0.0, bx = 0.0, by = 0.0
            used = 0
            for p in points {
                let m = sample(Double(p.x) + dx, Double(p.y) + dy)
                guard m.isFinite else { continue }
                let e = Double(p.value - m), gx = Double(p.gx), gy = Double(p.gy)
                sxx += gx * gx; sxy += gx * gy; syy += gy * gy
                bx += gx * e; by += gy * e
                used += 1
            }
            guard used >= minimumPixels else { return nil }
            let det = sxx * syy - sxy * sxy
            guard det > 1e-12 * max(1, sxx * syy) else { return nil }
            // moving(x + d + u) ≈ moving(x + d) + ∇·u = reference(x)  ⇒  u = H⁻¹ Σ ∇ (reference − moving)
            let ux = (syy * bx - sxy * by) / det, uy = (sxx * by - sxy * bx) / det
            dx += ux
            dy += uy
            if abs(dx) > 50 || abs(dy) > 50 { return nil }
            if abs(ux) < 1e-4 && abs(uy) < 1e-4 { break }
        }
        return (dx, dy, used)
    }
}
