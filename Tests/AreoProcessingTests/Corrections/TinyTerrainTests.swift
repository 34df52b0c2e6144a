import AreoTestSupport
import AreoCodecs
import AreoGeometry
import AreoProcessing
import AreoRadiometry
import AreoTelemetry
import Foundation
import Testing

/// The independent producer's `tiny-terrain` mission (ICD §8, §9, §11), read without the
/// archive: its shape models, straylight and mechanism offset against its `truth.json`.
@Suite struct TinyTerrainTests {
    static let mission = Result { try MissionFiles("tiny-terrain") }
    static let observation = 5500

    /// `truth.json`'s value of `key` for the observation.
    static func truthValue(_ key: String) throws -> Double {
        let url = TestDatabase.samplesDirectory.appendingPathComponent("tiny-terrain/truth.json")
        let truth = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        let table = truth[key] as! [String: Any]
        return (table[String(observation)] as! NSNumber).doubleValue
    }

    @Test func estimatesTheMechanismOffsetAndStraylight() async throws {
        let mission = try Self.mission.get()
        let terrain = Terrain(models: try mission.shapeModels())
        let processor = try mission.processor(kernel: "reconstructed", terrain: terrain)
        let framelets = mission.framelets(observation: UInt32(Self.observation))
        let estimate = try await processor.estimateCorrections(framelets: framelets, payload: mission.payloads)
        let offset = try Self.truthValue("mechanism_offsets_deg"), epsilon = try Self.truthValue("straylight_epsilon")
        print("mechanism", estimate.mechanism, "truth", offset)
        print("straylight", estimate.straylight, "truth", epsilon)
        #expect(abs(estimate.mechanism.offsetDegrees - offset) <= 0.01)
        #expect(abs((estimate.straylight.epsilon ?? 9) - epsilon) <= 0.05)
    }
}

extension TinyTerrainTests {
    /// The reference map of `tiny-terrain` (ICD §12: I/F on the geographic grid of §11), the
    /// independent producer's rendering of the truth at ~91 m.
    static func referenceMap() throws -> GeoTIFF.Raster {
        try GeoTIFF.readFloat32(path: TestDatabase.samplesDirectory.appendingPathComponent("tiny-terrain/refmap/ctx-like-mosaic.tif").path)
    }

    /// A product against the reference map: the product averaged over each reference pixel
    /// (4 × 4 points), the median relative I/F difference, and the offset (reference pixels) that
    /// registers the averaged product onto the map.
    static func compare(_ raster: ProductRaster, with map: GeoTIFF.Raster) throws -> (medianError: Double, offset: (dx: Double, dy: Double), pixels: Int) {
        let grid = try #require(raster.grid)
        let values = raster.bands[0]
        func product(_ latitude: Double, _ longitude: Double) -> Double? {
            let (x, y) = grid.projection.forward(latitude: latitude, longitude: longitude)
            let (c, r) = grid.pixel(x: x, y: y)
            guard c >= 0, r >= 0, c < Double(grid.width - 1), r < Double(grid.height - 1) else { return nil }
            let (c0, r0) = (Int(c), Int(r)), (tx, ty) = (c - Double(Int(c)), r - Double(Int(r)))
            let k = r0 * grid.width + c0
            let v = (Double(values[k]) * (1 - tx) + Double(values[k + 1]) * tx) * (1 - ty)
                + (Double(values[k + grid.width]) * (1 - tx) + Double(values[k + grid.width + 1]) * tx) * ty
            return v.isFinite ? v : nil
        }
        var averaged = [Float](repeating: .nan, count: map.width * map.height)
        var errors: [Double] = []
        for j in 0..<map.height {
            for i in 0..<map.width {
                let reference = Double(map.values[j * map.width + i])
                guard reference.isFinite, reference != map.noData, reference > 0 else { continue }
                var sum = 0.0, all = true
                for sj in 0..<4 {
                    for si in 0..<4 {
                        let lon = map.tiepoint.x + (Double(i) + (Double(si) + 0.5) / 4) * map.pixelScale.x
                        let lat = map.tiepoint.y - (Double(j) + (Double(sj) + 0.5) / 4) * map.pixelScale.y
                        guard let v = product(lat, lon) else { all = false; break }
                        sum += v
                    }
                    if !all { break }
                }
                guard all else { continue }
                averaged[j * map.width + i] = Float(sum / 16)
                errors.append(abs(sum / 16 - reference) / reference)
            }
        }
        errors.sort()
        let mapValues = map.values.map { $0 == Float(map.noData ?? -32768) ? Float.nan : $0 }
        func at(_ v: [Float], _ i: Int, _ j: Int) -> Float { i >= 0 && j >= 0 && i < map.width && j < map.height ? v[j * map.width + i] : .nan }
        let shift = try #require(Registration.offset(
            reference: { at(mapValues, $0, $1) }, moving: { at(averaged, $0, $1) }, columns: 0..<map.width, rows: 0..<map.height, iterations: 20))
        return (errors.isEmpty ? .infinity : errors[errors.count / 2], (shift.dx, shift.dy), errors.count)
    }

    /// ICD §11 and §9 end to end: the PAN product ortho-rectified on the shape models with the
    /// estimated corrections lands within 0.25 camera pixel of the reference map and within 1 %
    /// of its I/F; without the shape models (printed beside) it lands tens of metres away, and
    /// without straylight removal its I/F is several per cent high.
    @Test func orthorectifiedProductMatchesTheReferenceMap() async throws {
        let mission = try Self.mission.get()
        let models = try mission.shapeModels()
        let framelets = mission.framelets(observation: UInt32(Self.observation))
        let base = try mission.processor(kernel: "reconstructed", terrain: Terrain(models: models))
        let estimate = try await base.estimateCorrections(framelets: framelets, payload: mission.payloads)
        let map = try Self.referenceMap()
        let gsd = 18.5
        let request = try ProductRequest(observationID: Self.observation, kind: .projected, bands: [.pan], scale: gsd, format: .dat)
        // Metres per reference pixel along a parallel and a meridian at the scene.
        let metresPerDegree = Ellipsoid.mars.equatorialRadius * 1000 * .pi / 180
        let latitude = map.tiepoint.y - Double(map.height) / 2 * map.pixelScale.y
        func cameraPixels(_ offset: (dx: Double, dy: Double)) -> Double {
            let east = offset.dx * map.pixelScale.x * metresPerDegree * cos(latitude * .pi / 180), north = offset.dy * map.pixelScale.y * metresPerDegree
            return (east * east + north * north).squareRoot() / gsd
        }
        var results: [String: (error: Double, offset: Double)] = [:]
        var withoutStraylight = mission.calibration
        for band in withoutStraylight.arrays.keys { withoutStraylight.arrays[band]?.straylight = nil }
        let variants: [(String, ObservationProcessor)] = [
            ("terrain+corrections", base.with(estimate.corrections)),
            ("ellipsoid", try mission.processor(kernel: "reconstructed", corrections: estimate.corrections)),
            ("no straylight removal", ObservationProcessor(
                instrument: mission.instrument, kernel: try mission.kernel("reconstructed"), calibration: withoutStraylight,
                terrain: Terrain(models: models), corrections: estimate.corrections)),
        ]
        for (name, processor) in variants {
            let rendered = try await processor.render(request, framelets: framelets, payload: mission.payloads)
            let comparison = try Self.compare(rendered.raster, with: map)
            results[name] = (comparison.medianError, cameraPixels(comparison.offset))
            print(String(format: "tiny-terrain PAN %@: median I/F error %.2f %%, offset %.3f camera pixels (%.1f m) over %d reference pixels",
                         name, comparison.medianError * 100, cameraPixels(comparison.offset), cameraPixels(comparison.offset) * gsd, comparison.pixels))
        }
        let corrected = try #require(results["terrain+corrections"]), ellipsoid = try #require(results["ellipsoid"]), stray = try #require(results["no straylight removal"])
        #expect(corrected.error <= 0.01)
        #expect(corrected.offset <= 0.25)
        #expect(ellipsoid.offset > 2 * max(corrected.offset, 0.25), "the terrain moves the ground")
        #expect(stray.error > 2 * corrected.error, "straylight left in shows")
    }
}
