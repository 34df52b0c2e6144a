import AreoTestSupport
import AreoCodecs
import AreoGeometry
import AreoProcessing
import AreoRadiometry
import AreoTelemetry
import Foundation
import Testing

/// Processing the independent producer's sample missions (read without the archive).
@Suite struct ObservationProcessorTests {
    static let mission = Result { try MissionFiles("tiny-clean") }

    /// CCSDS 121.0, uncompressed, and JPEG with 2 × 2 binning: with the reconstructed (exact)
    /// kernel, consecutive framelets register to a fraction of a pixel where they overlap.
    @Test(arguments: [5300, 5301, 5302])
    func frameletsRegisterWithTheReconstructedKernel(observation: Int) async throws {
        let mission = try Self.mission.get()
        let processor = try mission.processor(kernel: "reconstructed")
        let framelets = mission.framelets(observation: UInt32(observation))
        #expect(framelets.count == 48)
        // Framelets overlap by a few lines; a 9 m grid gives the overlap enough rows to measure
        // (the 2 × 2 binned observation has 36 m samples).
        let grid = try processor.grid(for: framelets, scale: 9)
        for band in [Band.pan, .nir] {
            let (mosaic, quality) = try await processor.mosaic(band: band, framelets: framelets, grid: grid) { mission.fragments[$0]! }
            #expect(quality.frameletPairsMeasured >= 3)
            let misregistration = try #require(quality.frameletMisregistration)
            // In samples of the framelet (ground size: range × pitch / focal length × binning).
            let centre = try processor.centre(of: framelets)
            let range = (centre.point - processor.camera(for: framelets[0]).state.position).length * 1000
            let sampleSize = range * processor.camera.pixelPitchMM / processor.camera.focalLengthMM * Double(framelets[0].header.binning)
            let inSamples = misregistration * grid.scale / sampleSize
            #expect(inSamples < 0.25, "observation \(observation) \(band): \(misregistration) px = \(inSamples) samples of \(sampleSize) m")
            // Plausible I/F of a sunlit surface, and the band covered.
            let values = mosaic.iof.filter { !$0.isNaN }.sorted()
            #expect(values.count > grid.width * grid.height / 5)
            #expect(values[values.count / 2] > 0.05 && values[values.count / 2] < 0.6)
        }
    }

    /// The samples' truth has no albedo map, so their I/F is checked through the ICD §9 forward
    /// model instead: Areo's I/F of every good sample, put back through `DN = bias + flat·(I/F·F·
    /// t_exp/(π·d²·k))` with the Sun distance of Areo's geometry, gives the DN the producer sent
    /// (median relative error of the signal ≤ 1 %), for CCSDS 121.0, raw and binned JPEG data.
    @Test(arguments: ["tiny-clean", "tiny-faults"])
    func calibratedIFReproducesTheProducersDNThroughTheForwardModel(name: String) throws {
        let mission = try MissionFiles(name)
        let processor = try mission.processor(kernel: "reconstructed")
        let set = mission.calibration, cols = set.description.detector.cols
        for observation in Set(mission.fragments.keys.map(\.header.observationID)).sorted() {
            var errors: [Double] = []
            for reference in mission.framelets(observation: observation) {
                let header = reference.header, binning = Int(header.binning)
                guard let band = header.band, let arrays = set.arrays[band], let k = set.description.bands[band.name],
                      let payload = mission.fragments[reference] else { continue }
                let dn = try processor.decode(reference, payload: payload)
                let camera = processor.camera(for: reference)
                let calibrated = try processor.calibrate(reference, payload: payload, camera: camera)
                let d = try #require(camera.view(sample: Double(camera.samples - 1) / 2, line: Double(camera.lines - 1) / 2)).sunDistanceAU
                let exposure = Double(header.exposureDurationMicroseconds) / 1e6
                for r in Swift.stride(from: 0, to: header.lines, by: 3) {
                    for c in Swift.stride(from: 0, to: header.samples, by: 7) where calibrated.flags[r * header.samples + c].isEmpty {
                        var bias = 0.0, flat = 0.0
                        for dy in 0..<binning {
                            for dx in 0..<binning {
                                let at = (Int(header.windowFirstRow) + r * binning + dy) * cols + Int(header.windowFirstColumn) + c * binning + dx
                                bias += Double(arrays.bias[at]); flat += Double(arrays.flat[at])
                            }
                        }
                        (bias, flat) = (bias / Double(binning * binning), flat / Double(binning * binning))
                        let iof = Double(calibrated.iof[r * header.samples + c])
                        let signal = flat * iof * k.solarIrradiance1AU * exposure / (.pi * d * d * k.radiancePerDNPerSecond)
                        let received = Double(dn[r * header.samples + c]) - bias
                        errors.append(abs(signal - received) / max(received, 1))
                    }
                }
            }
            errors.sort()
            #expect(errors.count > 1000)
            let median = errors[errors.count / 2]
            #expect(median <= 0.01, "\(name) observation \(observation): median relative error \(median)")
        }
    }

    /// The predicted kernel (with a timing and a pointing error) puts the same ground elsewhere:
    /// its product is offset from the reconstructed one by several pixels.
    @Test func thePredictedKernelIsMeasurablyOffset() async throws {
        let mission = try Self.mission.get()
        let framelets = mission.framelets(observation: 5300)
        let reconstructed = try mission.processor(kernel: "reconstructed"), predicted = try mission.processor(kernel: "predicted")
        let grid = try reconstructed.grid(for: framelets, scale: 18)
        let (a, _) = try await reconstructed.mosaic(band: .pan, framelets: framelets, grid: grid) { mission.fragments[$0]! }
        let (b, _) = try await predicted.mosaic(band: .pan, framelets: framelets, grid: grid) { mission.fragments[$0]! }
        func pixel(_ m: BandMosaic, _ i: Int, _ j: Int) -> Float {
            i >= 0 && j >= 0 && i < grid.width && j < grid.height ? m.iof[j * grid.width + i] : .nan
        }
        let same = try #require(Registration.offset(reference: { pixel(a, $0, $1) }, moving: { pixel(a, $0, $1) }, columns: 0..<grid.width, rows: 0..<grid.height))
        #expect(abs(same.dx) < 1e-6 && abs(same.dy) < 1e-6)
        let shift = try #require(Registration.offset(reference: { pixel(a, $0, $1) }, moving: { pixel(b, $0, $1) }, columns: 0..<grid.width, rows: 0..<grid.height))
        let length = (shift.dx * shift.dx + shift.dy * shift.dy).squareRoot()
        #expect(length > 1.0, "predicted vs reconstructed: \(shift)")
    }

    /// A colour composite's grid is the bands' common ground: a window of the band products'
    /// grid on the same pixel lattice, whose every band is that band's projected product.
    @Test func compositesCoverTheBandsCommonGroundOnTheBandGrid() async throws {
        let mission = try Self.mission.get()
        let processor = try mission.processor(kernel: "reconstructed")
        let framelets = mission.framelets(observation: 5300)
        let bands: [Band] = [.nir, .pan, .blu]
        let composite = try await processor.render(
            try ProductRequest(observationID: 5300, kind: .composite, bands: bands, scale: 12, format: .dat), framelets: framelets
        ) { mission.fragments[$0]! }
        let window = try #require(composite.raster.grid)
        let full = try processor.grid(for: framelets, scale: 12)
        #expect(window.width * window.height < full.width * full.height)
        let columnOffset = (window.minX - full.minX) / 12, rowOffset = (full.maxY - window.maxY) / 12
        #expect(columnOffset == columnOffset.rounded() && rowOffset == rowOffset.rounded() && columnOffset >= 0 && rowOffset >= 0)
        #expect(window.width + Int(columnOffset) <= full.width && window.height + Int(rowOffset) <= full.height)
        for (index, band) in bands.enumerated() {
            let projected = try await processor.render(
                try ProductRequest(observationID: 5300, kind: .projected, bands: [band], scale: 12, format: .dat), framelets: framelets
            ) { mission.fragments[$0]! }
            #expect(projected.raster.grid?.width == full.width && projected.raster.grid?.height == full.height)
            // The same ground resampled the same way: equal but for float rounding (each grid
            // computes its pixel centres from its own origin).
            var compared = 0, worst: Float = 0
            for j in 0..<window.height {
                for i in 0..<window.width {
                    let value = composite.raster.bands[index][j * window.width + i]
                    guard !value.isNaN else { continue }
                    compared += 1
                    let own = projected.raster.bands[0][(j + Int(rowOffset)) * full.width + i + Int(columnOffset)]
                    worst = max(worst, own.isNaN ? .infinity : abs(own - value) / max(abs(own), 1e-3))
                }
            }
            #expect(compared > window.width * window.height / 3)
            #expect(worst < 1e-5, "\(band.name): largest relative difference \(worst) over \(compared) pixels")
        }
    }

    /// Registration measures a known shift.
    @Test func registrationRecoversAKnownSubpixelShift() throws {
        func scene(_ x: Double, _ y: Double) -> Float { Float(sin(x / 7) * cos(y / 5) + 0.3 * sin((x + y) / 3)) }
        let (dx, dy) = (0.37, -1.21)
        let reference: (Int, Int) -> Float = { i, j in scene(Double(i), Double(j)) }
        let moving: (Int, Int) -> Float = { i, j in scene(Double(i) - dx, Double(j) - dy) }
        let measured = Registration.offset(reference: reference, moving: moving, columns: 0..<120, rows: 0..<90)
        let found = try #require(measured)
        #expect(abs(found.dx - dx) < 0.02 && abs(found.dy - dy) < 0.02, "\(found)")
    }

    /// A raw product is the decoded DN of the framelets, stacked in exposure order.
    @Test func rawProductsAreTheDecodedSamples() async throws {
        let mission = try Self.mission.get()
        let processor = try mission.processor(kernel: "reconstructed")
        let framelets = mission.framelets(observation: 5300)
        let request = try ProductRequest(observationID: 5300, kind: .raw, bands: [.blu], format: .dat)
        let rendered = try await processor.render(request, framelets: framelets) { mission.fragments[$0]! }
        let third = try #require(framelets.first { $0.header.band == .blu && $0.header.frameletIndex == 2 })
        let dn = try FragmentDecoder.samples(header: third.header, payload: mission.fragments[third]!)
        let offset = 2 * third.header.lines * third.header.samples
        #expect(rendered.raster.width == 256 && rendered.raster.height == 12 * 32)
        #expect(Array(rendered.raster.bands[0][offset..<(offset + dn.count)]) == dn.map(Float.init))
        // The .dat bytes are little-endian float32 of the same values.
        let bytes = rendered.raster.float32LittleEndian()
        let k = offset + 77
        let value = Float(bitPattern: UInt32(bytes[4 * k]) | UInt32(bytes[4 * k + 1]) << 8 | UInt32(bytes[4 * k + 2]) << 16 | UInt32(bytes[4 * k + 3]) << 24)
        #expect(value == Float(dn[77]))
    }

    /// A projected `.dat` product's label is well-formed XML (xmllint) and states the array and
    /// the map projection the raster has.
    @Test func projectedLabelsAreWellFormedAndStateTheGrid() async throws {
        let mission = try Self.mission.get()
        let processor = try mission.processor(kernel: "reconstructed")
        let framelets = mission.framelets(observation: 5301)
        let request = try ProductRequest(observationID: 5301, kind: .composite, bands: [.nir, .pan, .blu], scale: 25, format: .dat)
        let rendered = try await processor.render(request, framelets: framelets) { mission.fragments[$0]! }
        let grid = try #require(rendered.raster.grid)
        let label = PDS4ProductLabel(
            request: request, provenance: ProductProvenance(kernelID: "recon-3", calibrationID: "cal-0001"), raster: rendered.raster,
            dataFileName: request.fileName, startTime: Date(timeIntervalSince1970: 0), stopTime: Date(timeIntervalSince1970: 1), md5: "0",
            bounds: grid.geographicBounds
        ).render()
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("areo-label-\(UUID().uuidString).xml")
        try Data(label.utf8).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        let xmllint = Process()
        xmllint.executableURL = URL(fileURLWithPath: "/usr/bin/xmllint")
        xmllint.arguments = ["--noout", url.path]
        try xmllint.run()
        xmllint.waitUntilExit()
        #expect(xmllint.terminationStatus == 0)
        #expect(label.contains("<Array_3D_Image>") && label.contains("<elements>\(grid.height)</elements>") && label.contains("<elements>\(grid.width)</elements>"))
        #expect(label.contains("<cart:map_projection_name>Equirectangular</cart:map_projection_name>"))
        #expect(label.contains("<cart:pixel_resolution_x unit=\"m/pixel\">25</cart:pixel_resolution_x>"))
        #expect(label.contains("<cart:upperleft_corner_x unit=\"m\">\(PDS4ProductLabelTestAccess.number(grid.minX))</cart:upperleft_corner_x>"))
        #expect(rendered.quality.bandMisregistration.count == 2)
    }
}

enum PDS4ProductLabelTestAccess {
    static func number(_ value: Double) -> String { value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value) }
}
