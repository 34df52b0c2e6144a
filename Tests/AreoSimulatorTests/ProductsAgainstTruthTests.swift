import AreoGeometry
import AreoProcessing
import AreoSimulator
import AreoTelemetry
import AreoTestSupport
import Foundation
import Testing

/// Areo's projected I/F against the simulator's truth: with the reconstructed kernel the median
/// relative error is ≤ 1 % and the geometric offset ≤ 0.25 pixel; with the predicted kernel the
/// offset is measurably larger.
@Suite struct ProductsAgainstTruthTests {
    /// The truth map's projection, parsed back from its PROJ string.
    static func projection(_ proj: String) throws -> MapProjection {
        func value(_ key: String) -> Double? {
            proj.split(separator: " ").first { $0.hasPrefix("+\(key)=") }.flatMap { Double($0.dropFirst(key.count + 2)) }
        }
        if proj.contains("+proj=eqc") { return .equirectangular(centerLongitude: try #require(value("lon_0")), standardParallel: try #require(value("lat_ts"))) }
        return .polarStereographic(north: try #require(value("lat_0")) > 0, centerLongitude: try #require(value("lon_0")))
    }

    struct Comparison { let medianRelativeError: Double; let offset: Double; let pixels: Int }

    static func compare(kernel: String, map: SimulatedMission.Truth.TruthMap, mission: MissionFiles) async throws -> Comparison {
        try await compare(processor: try mission.processor(kernel: kernel), map: map, mission: mission, directory: SimulatedMission.directory)
    }

    /// `processor`'s mosaic of the map's band against the truth map (in `directory`).
    static func compare(processor: ObservationProcessor, map: SimulatedMission.Truth.TruthMap, mission: MissionFiles, directory: URL) async throws -> Comparison {
        let framelets = mission.framelets(observation: UInt32(map.observation_id))
        let band = try #require(Band(name: map.band))
        let grid = try processor.grid(for: framelets, scale: map.scale_m)
        let (mosaic, _) = try await processor.mosaic(band: band, framelets: framelets, grid: grid) { mission.fragments[$0]! }
        let bytes = try [UInt8](Data(contentsOf: directory.appendingPathComponent(map.file)))
        let truth = (0..<(bytes.count / 4)).map { i in
            Float(bitPattern: UInt32(bytes[4 * i]) | UInt32(bytes[4 * i + 1]) << 8 | UInt32(bytes[4 * i + 2]) << 16 | UInt32(bytes[4 * i + 3]) << 24)
        }
        let truthGrid = MapGrid(projection: try projection(map.proj), scale: map.scale_m, minX: map.min_x_m, maxY: map.max_y_m, width: map.width, height: map.height)
        // The truth resampled (bilinear) onto Areo's grid, through latitude and longitude.
        var resampled = [Float](repeating: .nan, count: grid.width * grid.height)
        for j in 0..<grid.height {
            for i in 0..<grid.width {
                let (x, y) = grid.center(column: i, row: j)
                let (lat, lon) = grid.projection.inverse(x: x, y: y)
                let (tx, ty) = truthGrid.projection.forward(latitude: lat, longitude: lon)
                let (c, r) = truthGrid.pixel(x: tx, y: ty)
                let c0 = Int(c.rounded(.down)), r0 = Int(r.rounded(.down))
                guard c0 >= 0, r0 >= 0, c0 + 1 < truthGrid.width, r0 + 1 < truthGrid.height else { continue }
                let fx = Float(c - Double(c0)), fy = Float(r - Double(r0))
                let at = { (cc: Int, rr: Int) in truth[rr * truthGrid.width + cc] }
                resampled[j * grid.width + i] = (at(c0, r0) * (1 - fx) + at(c0 + 1, r0) * fx) * (1 - fy) + (at(c0, r0 + 1) * (1 - fx) + at(c0 + 1, r0 + 1) * fx) * fy
            }
        }
        var errors: [Double] = []
        for k in mosaic.iof.indices where !mosaic.iof[k].isNaN && !resampled[k].isNaN && resampled[k] > 0.01 && !mosaic.saturated[k] {
            errors.append(abs(Double(mosaic.iof[k] - resampled[k])) / Double(resampled[k]))
        }
        errors.sort()
        let pixel = { (values: [Float], i: Int, j: Int) -> Float in
            i >= 0 && j >= 0 && i < grid.width && j < grid.height ? values[j * grid.width + i] : .nan
        }
        // Edges (where a framelet's samples are clamped) are left out of the registration.
        var mosaicValues = mosaic.iof
        for j in 0..<grid.height {
            for i in 0..<grid.width where !mosaic.iof[j * grid.width + i].isNaN {
                var edge = false
                for dj in -2...2 { for di in -2...2 where pixel(mosaic.iof, i + di, j + dj).isNaN { edge = true } }
                if edge { mosaicValues[j * grid.width + i] = .nan }
            }
        }
        let shift = try #require(Registration.offset(
            reference: { pixel(resampled, $0, $1) }, moving: { pixel(mosaicValues, $0, $1) }, columns: 0..<grid.width, rows: 0..<grid.height))
        return Comparison(medianRelativeError: errors.isEmpty ? 1 : errors[errors.count / 2], offset: (shift.dx * shift.dx + shift.dy * shift.dy).squareRoot(), pixels: errors.count)
    }

    @Test func projectedIFMatchesTheTruthWithTheReconstructedKernel() async throws {
        let directory = try await SimulatedMission.make()
        let truth = try SimulatedMission.truth()
        let mission = try MissionFiles(directory: directory)
        var checked = 0
        for map in truth.truth_maps where !map.saturated_area && (map.band == "PAN" || map.band == "NIR") {
            let good = try await Self.compare(kernel: "reconstructed", map: map, mission: mission)
            let bad = try await Self.compare(kernel: "predicted", map: map, mission: mission)
            print("observation \(map.observation_id) \(map.band): reconstructed error \(good.medianRelativeError), offset \(good.offset) px over \(good.pixels) px; predicted offset \(bad.offset)")
            #expect(good.pixels > 1000)
            #expect(good.medianRelativeError <= 0.01, "observation \(map.observation_id) \(map.band)")
            #expect(good.offset <= 0.25, "observation \(map.observation_id) \(map.band)")
            #expect(bad.offset > good.offset + 0.5, "the predicted kernel's offset is measurably larger")
            checked += 1
        }
        #expect(checked >= 2)
    }
}
