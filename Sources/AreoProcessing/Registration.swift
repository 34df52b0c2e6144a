/// Sub-pixel offset between two images of the same ground on the same grid, by iterated
/// Lucas–Kanade: the shift (dx, dy) that best maps `moving` onto `reference` in the least-squares
/// sense, using the pixels where both have values. Used for the quality measures
/// (misregistration between overlapping framelets and between bands, i.e. colour fringing) and
/// by tests comparing products with each other or with truth.
public enum Registration {
    /// The offset in pixels such that `moving(x + dx, y + dy) ≈ reference(x, y)`, with the
    /// number of pixels it rests on; nil when fewer than `minimumPixels` overlap or the overlap
    /// has no texture.
    public static func offset(
        reference: (Int, Int) -> Float, moving: (Int, Int) -> Float, columns: Range<Int>, rows: Range<Int>,
        minimumPixels: Int = 200, iterations: Int = 8
    ) -> (dx: Double, dy: Double, pixels: Int)? {
        var dx = 0.0, dy = 0.0, used = 0
        func sample(_ x: Double, _ y: Double) -> Float {
            let x0 = Int(x.rounded(.down)), y0 = Int(y.rounded(.down))
            let tx = Float(x - Double(x0)), ty = Float(y - Double(y0))
            let a = moving(x0, y0), b = moving(x0 + 1, y0), c = moving(x0, y0 + 1), d = moving(x0 + 1, y0 + 1)
            return (a * (1 - tx) + b * tx) * (1 - ty) + (c * (1 - tx) + d * tx) * ty
        }
        for _ in 0..<iterations {
            var sxx = 0.0, sxy = 0.0, syy = 0.0, bx = 0.0, by = 0.0
            used = 0
            for j in rows.dropFirst().dropLast() {
                for i in columns.dropFirst().dropLast() {
                    let r = reference(i, j)
                    let x = Double(i) + dx, y = Double(j) + dy
                    let m = sample(x, y)
                    let gx = (sample(x + 1, y) - sample(x - 1, y)) / 2, gy = (sample(x, y + 1) - sample(x, y - 1)) / 2
                    guard r.isFinite, m.isFinite, gx.isFinite, gy.isFinite else { continue }
                    let e = Double(r - m)
                    sxx += Double(gx * gx); sxy += Double(gx * gy); syy += Double(gy * gy)
                    bx += Double(gx) * e; by += Double(gy) * e
                    used += 1
                }
            }
            guard used >= minimumPixels else { return nil }
            let det = sxx * syy - sxy * sxy
            guard det > 1e-12 * max(1, sxx * syy) else { return nil }
            let ux = (syy * bx - sxy * by) / det, uy = (sxx * by - sxy * bx) / det
            dx += ux
            dy += uy
            if abs(dx) > 50 || abs(dy) > 50 { return nil }
            if abs(ux) < 1e-4 && abs(uy) < 1e-4 { break }
        }
        return (dx, dy, used)
    }
}
