import AreoTestSupport
import AreoGeometry
import AreoProcessing
import AreoTelemetry
import Foundation
import Testing

/// ICD §12 on the independent producer's `tiny-terrain`: its predicted kernel (the orbit 0.25 s
/// late, the pointing biased) refined against its reference map lands where its reconstructed
/// kernel does, read without the archive.
@Suite struct TinyTerrainRefinementTests {
    static func referenceMap() throws -> ReferenceMap {
        try ReferenceMapFile.read(path: TestDatabase.samplesDirectory.appendingPathComponent("tiny-terrain/refmap/ctx-like-mosaic.tif").path)
    }

    @Test func readsTheReferenceMap() throws {
        let map = try Self.referenceMap()
        #expect(map.id == "ctx-like-mosaic")
        #expect(map.band == .pan)
        #expect(abs(map.resolution - 90.909) < 0.01)
        #expect(map.accuracy == 2)
        #expect(map.values.contains { $0.isFinite && $0 > 0 })
    }

    @Test func predictedGeometryRefinedAgainstTheReferenceMapLandsOnTheReconstructed() async throws {
        let mission = try TinyTerrainTests.mission.get()
        let terrain = Terrain(models: try mission.shapeModels())
        let framelets = mission.framelets(observation: UInt32(TinyTerrainTests.observation))
        let reconstructed = try mission.processor(kernel: "reconstructed", terrain: terrain)
        let corrections = try await reconstructed.estimateCorrections(framelets: framelets, payload: mission.payloads).corrections
        let predicted = try mission.processor(kernel: "predicted", terrain: terrain, corrections: corrections)
        let map = try Self.referenceMap()
        let started = ContinuousClock.now
        let result = try await GeometryRefiner(processor: predicted).refine(
            framelets: framelets, band: .pan, controls: [RefinementControl(.referenceMap(map))], payload: mission.payloads)
        print("tiny-terrain refinement", ContinuousClock.now - started, result)
        #expect(result.accepted, "\(result.reason ?? "")")
        let correction = try #require(result.correction)
        // Where each framelet's centre lands with the refined and with the reconstructed kernel.
        let base = try mission.kernel("predicted")
        let refined = correction.refinedKernel(
            from: base, id: "refined-test", produced: "2026-12-02T00:00:00Z", coverage: base.coverageSCLK,
            derivedFrom: .init(kernelID: base.kernelID, referenceMaps: [map.id], observations: []),
            refinement: .init(correction: correction, timeOffsetSigmaSeconds: 0, attitudeBiasSigmaDegrees: [0, 0, 0],
                              attitudeBiasRateSigmaDegreesPerSecond: nil, ties: result.ties, residualRMSPixels: 0, residualMedianPixels: 0))
        #expect(refined.violations.isEmpty, "\(refined.violations)")
        let after = predicted.with(kernel: refined), truth = reconstructed.with(corrections)
        var before: [Double] = [], distances: [Double] = []
        for reference in framelets where reference.header.band == .pan {
            let a = after.camera(for: reference), b = truth.camera(for: reference), p = predicted.camera(for: reference)
            let (c, r) = (Double(a.samples - 1) / 2, Double(a.lines - 1) / 2)
            guard let ga = a.ground(sample: c, line: r), let gb = b.ground(sample: c, line: r), let gp = p.ground(sample: c, line: r) else { continue }
            distances.append((ga - gb).length * 1000)
            before.append((gp - gb).length * 1000)
        }
        let gsd = result.cameraScale
        let worst = distances.max() ?? .infinity
        print(String(format: "tiny-terrain: predicted %.0f m (%.1f px) from the reconstructed ground; refined %.2f m (%.3f px) at worst; Δt %.4f s",
                     before.max() ?? 0, (before.max() ?? 0) / gsd, worst, worst / gsd, correction.timeOffsetSeconds))
        #expect(worst / gsd <= 0.5)
        #expect((before.min() ?? 0) / gsd > 20)
    }

    /// A featureless control (one I/F everywhere over the scene) gives no tie point: refused with its reason.
    @Test func aFeaturelessReferenceMapIsRefused() async throws {
        let mission = try TinyTerrainTests.mission.get()
        let map = try Self.referenceMap()
        let flat = try ReferenceMap(
            id: "flat", produced: map.produced, resolution: map.resolution, band: "PAN", accuracy: 2, width: map.width, height: map.height,
            west: map.west, north: map.north, pixelWidth: map.pixelWidth, pixelHeight: map.pixelHeight,
            values: [Float](repeating: 0.2, count: map.width * map.height), noData: nil)
        let predicted = try mission.processor(kernel: "predicted", terrain: Terrain(models: try mission.shapeModels()))
        let result = try await GeometryRefiner(processor: predicted).refine(
            framelets: mission.framelets(observation: UInt32(TinyTerrainTests.observation)), band: .pan,
            controls: [RefinementControl(.referenceMap(flat))], payload: mission.payloads)
        #expect(!result.accepted)
        #expect(result.correction == nil)
        #expect(result.reason?.hasPrefix("too few matches") == true, "\(result.reason ?? "")")
        let none = try await GeometryRefiner(processor: predicted).refine(
            framelets: mission.framelets(observation: UInt32(TinyTerrainTests.observation)), band: .pan, controls: [], payload: mission.payloads)
        #expect(none.reason == GeometryRefiner.noControl)
    }

    /// What breaks ICD §12 is refused naming the file and the rule.
    @Test func brokenReferenceMapsAreRefusedNamingTheRule() throws {
        let map = try Self.referenceMap()
        func make(band: String = "PAN", resolution: Double = 90, accuracy: Double = 2, value: Float = 0.2, noData: Double? = nil) throws(ReferenceMapError) -> ReferenceMap {
            try ReferenceMap(id: "m", produced: map.produced, resolution: resolution, band: band, accuracy: accuracy, width: 4, height: 4,
                             west: 10, north: 5, pixelWidth: 0.01, pixelHeight: 0.01, values: [Float](repeating: value, count: 16), noData: noData)
        }
        #expect(throws: ReferenceMapError.self) { try make(band: "UV") }
        #expect(throws: ReferenceMapError.self) { try make(resolution: -1) }
        #expect(throws: ReferenceMapError.self) { try make(accuracy: .nan) }
        #expect(throws: ReferenceMapError.self) { try make(value: 3_396_000) }  // radii are not I/F
        #expect(throws: ReferenceMapError.self) { try make(value: -9999, noData: -9999) }  // all no data
        #expect(throws: ReferenceMapError.self) { try make(value: .infinity) }
        #expect(try make().value(latitude: 4.98, longitude: 10.02) == 0.2)
        // The GeoTIFF without its side file.
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("areo-refmap-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let lonely = folder.appendingPathComponent("lonely.tif")
        try FileManager.default.copyItem(at: TestDatabase.samplesDirectory.appendingPathComponent("tiny-terrain/refmap/ctx-like-mosaic.tif"), to: lonely)
        do {
            _ = try ReferenceMapFile.read(path: lonely.path)
            Issue.record("read without its side file")
        } catch {
            #expect(error.file == "lonely.tif")
            #expect(error.rule.contains("side file"))
        }
        try Data(#"{"map_id": "x", "produced": "yesterday", "resolution_m": 90, "band": "PAN", "accuracy_m": 2}"#.utf8).write(to: URL(fileURLWithPath: lonely.path + ".json"))
        do {
            _ = try ReferenceMapFile.read(path: lonely.path)
            Issue.record("read with a malformed time")
        } catch {
            #expect(error.file == "lonely.tif.json")
            #expect(error.rule.contains("ISO 8601"))
        }
    }
}
