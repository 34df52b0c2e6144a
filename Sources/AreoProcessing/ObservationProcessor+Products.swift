import AreoGeometry
import AreoRadiometry
import AreoTelemetry

extension ObservationProcessor {
    /// A rendered product with its quality measures.
    public struct Rendered: Sendable {
        public var raster: ProductRaster
        public var quality: ProductQuality
    }

    /// Quality measures reported with each product.
    public struct ProductQuality: Sendable, Codable, Equatable {
        /// Median offset between overlapping consecutive framelets, pixels (per band).
        public var frameletMisregistration: [String: Double] = [:]
        /// Offset of each band against the first, pixels (colour fringing); composites only.
        public var bandMisregistration: [String: Double] = [:]
        public var saturatedFraction = 0.0
        public var missingFraction = 0.0
        public var saturatedSamples = 0
        public var interpolatedSamples = 0
        /// Mean straylight removed per sample, I/F, per band (ICD §9; absent where none was).
        public var straylightRemoved: [String: Double] = [:]

        public init() {}

    }

    /// Renders `request` from the observation's `framelets`, loading payloads as needed.
    public func render(
        _ request: ProductRequest, framelets: [FrameletReference],
        payload: @escaping PayloadLoader
    ) async throws -> Rendered {
        switch request.kind {
        case .raw, .calibrated:
            return try await stacked(request, framelets: framelets, payload: payload)
        case .projected:
            let grid = try grid(for: framelets, scale: request.scale)  // all bands' grid: band products overlay exactly
            var quality = ProductQuality()
            let mosaic = try await measuredMosaic(request.bands[0], request: request, framelets: framelets, grid: grid, quality: &quality, payload: payload)
            quality.missingFraction = mosaic.missingFraction
            quality.saturatedFraction = mosaic.saturatedFraction
            return Rendered(
                raster: ProductRaster(width: grid.width, height: grid.height, bands: [mosaic.iof], saturated: mosaic.saturated, grid: grid, unit: "I/F"),
                quality: quality)
        case .composite:
            return try await composite(request, framelets: framelets, payload: payload)
        }
    }

    /// One band's mosaic, its quality folded into `quality`; refuses a band that projects nowhere.
    private func measuredMosaic(
        _ band: Band, request: ProductRequest, framelets: [FrameletReference], grid: MapGrid, quality: inout ProductQuality,
        scratch: consuming MosaicScratch? = nil, payload: @escaping PayloadLoader
    ) async throws -> BandMosaic {
        let (mosaic, measured) = try await mosaic(band: band, framelets: framelets, grid: grid, scratch: scratch.take(), payload: payload)
        guard measured.missingFraction < 1 else { throw ProcessingError(.noUsableData, "no \(band.name) framelet of observation \(request.observationID) could be projected") }
        quality.frameletMisregistration[band.name] = measured.frameletMisregistration
        quality.saturatedSamples += measured.saturatedSamples
        quality.interpolatedSamples += measured.interpolatedSamples
        if measured.straylightRemoved > 0 { quality.straylightRemoved[band.name] = measured.straylightRemoved }
        return mosaic
    }

    /// A colour composite. For PNG and JPEG only the 8-bit browse planes are kept, each made as
    /// soon as its band is mosaicked, so memory holds one band's floats at a time; `.dat` keeps
    /// the I/F of every band.
    private func composite(
        _ request: ProductRequest, framelets: [FrameletReference], payload: @escaping PayloadLoader
    ) async throws -> Rendered {
        let grid = try grid(for: framelets, scale: request.scale, commonTo: request.bands)
        let pixels = grid.width * grid.height
        let browse = request.format != .dat
        var quality = ProductQuality()
        var floats: [[Float]] = [], planes: [[UInt8]] = []
        // Made only when a band has saturated pixels (rare): a grid of falses is 50 MB at 4 m.
        var saturated: [Bool]? = nil
        var scratch: MosaicScratch? = nil
        for band in request.bands {
            let mosaic = try await measuredMosaic(
                band, request: request, framelets: framelets, grid: grid, quality: &quality, scratch: scratch.take(), payload: payload)
            if mosaic.saturatedPixels > 0 {
                var mask = saturated.take() ?? [Bool](repeating: false, count: pixels)
                for k in 0..<pixels where mosaic.saturated[k] { mask[k] = true }
                saturated = mask
            }
            if browse {
                planes.append(ProductRaster.stretch8(mosaic.iof))
                // The floats are done with: their buffers serve the next band.
                scratch = mosaic.scratch()
            } else {
                floats.append(mosaic.iof)
            }
        }
        // Colour only where every band saw the ground.
        var covered = 0
        if browse {
            // 0 in any band's plane means that band saw nothing there: clear the pixel in all.
            covered = Self.keepCommonCoverage(&planes, pixels: pixels)
            if planes.count == 2 {  // PAN-BLU: a synthetic green between them
                planes.insert(zip(planes[0], planes[1]).map { UInt8((Int($0) + Int($1)) / 2) }, at: 1)
            }
        } else {
            for k in 0..<pixels {
                if floats.contains(where: { $0[k].isNaN }) { for b in floats.indices { floats[b][k] = .nan } } else { covered += 1 }
            }
            floats = ProductRaster.colourPlanes(floats)
        }
        // Colour fringing: each band against the first (standardised values; browse planes are
        // a linear stretch of I/F, which standardising undoes).
        let first: (Int, Int) -> Float, columns = 0..<grid.width, rows = 0..<grid.height
        func value(_ b: Int, _ i: Int, _ j: Int) -> Float {
            guard i >= 0, j >= 0, i < grid.width, j < grid.height else { return .nan }
            if browse { let v = planes[b][j * grid.width + i]; return v == 0 ? .nan : Float(v) }
            return floats[b][j * grid.width + i]
        }
        first = { value(0, $0, $1) }
        let measured = request.bands.count == 2 ? [(request.bands[1], 2)] : Array(zip(request.bands, 0...)).dropFirst().map { ($0.0, $0.1) }
        for (band, index) in measured {
            if let shift = Registration.offset(reference: first, moving: { value(index, $0, $1) }, columns: columns, rows: rows, normalize: true) {
                quality.bandMisregistration[band.name] = (shift.dx * shift.dx + shift.dy * shift.dy).squareRoot()
            }
        }
        quality.missingFraction = 1 - Double(covered) / Double(max(1, pixels))
        quality.saturatedFraction = covered == 0 ? 0 : Double(saturated?.count { $0 } ?? 0) / Double(covered)
        let raster = browse
            ? ProductRaster(width: grid.width, height: grid.height, bands: [], saturated: saturated, grid: grid, unit: "I/F", planes8: planes)
            : ProductRaster(width: grid.width, height: grid.height, bands: floats, saturated: saturated, grid: grid, unit: "I/F")
        return Rendered(raster: raster, quality: quality)
    }

    /// Clears (0) every pixel that is 0 in any plane, in all planes; returns the pixels left.
    static func keepCommonCoverage(_ planes: inout [[UInt8]], pixels: Int) -> Int {
        precondition(planes.count == 2 || planes.count == 3)
        // Taken out of the array so each plane is uniquely referenced and written in place.
        var (first, second, third) = (planes[0], planes[1], planes.count == 3 ? planes[2] : [])
        let three = planes.count == 3
        planes = []
        let covered = first.withUnsafeMutableBufferPointer { first in
            second.withUnsafeMutableBufferPointer { second in
                third.withUnsafeMutableBufferPointer { third in
                    nonisolated(unsafe) let (first, second, third) = (first, second, third)
                    return ParallelChunks.map(pixels) { range in
                        var covered = 0
                        for k in range {
                            if first[k] == 0 || second[k] == 0 || (three && third[k] == 0) {
                                first[k] = 0
                                second[k] = 0
                                if three { third[k] = 0 }
                            } else {
                                covered += 1
                            }
                        }
                        return covered
                    }.reduce(0, +)
                }
            }
        }
        planes = three ? [first, second, third] : [first, second]
        return covered
    }

    /// Raw or calibrated: the band's framelets stacked top to bottom in exposure order (a
    /// framelet that did not arrive leaves its lines missing).
    private func stacked(
        _ request: ProductRequest, framelets: [FrameletReference], payload: @escaping PayloadLoader
    ) async throws -> Rendered {
        let band = request.bands[0]
        let mine = framelets.filter { $0.header.band == band }.sorted { $0.header.frameletIndex < $1.header.frameletIndex }
        guard let first = mine.first else { throw ProcessingError(.noUsableData, "observation \(request.observationID) has no \(band.name) framelet") }
        let lines = first.header.lines, samples = first.header.samples
        let planned = max(Int(first.header.frameletsPlannedPerBand), Int(mine.last!.header.frameletIndex) + 1)
        // The header's counts come from outside: a stack is made only up to 2²⁸ samples (1 GiB of floats).
        guard samples * lines * planned <= 1 << 28 else {
            throw ProcessingError(.tooLarge, "the \(band.name) stack would be \(planned) framelets of \(samples) × \(lines) samples, more than 2²⁸; its headers are not credible")
        }
        var values = [Float](repeating: .nan, count: samples * lines * planned)
        var saturated = [Bool](repeating: false, count: values.count)
        var quality = ProductQuality()
        for reference in mine where reference.header.lines == lines && reference.header.samples == samples {
            try Task.checkCancellation()
            let offset = Int(reference.header.frameletIndex) * lines * samples
            let bytes = try await payload(reference)
            if request.kind == .raw {
                let dn = try decode(reference, payload: bytes)
                let top = UInt16((1 << Int(reference.header.bitsPerSample)) - 1)
                for k in dn.indices {
                    values[offset + k] = Float(dn[k])
                    saturated[offset + k] = dn[k] >= top
                }
            } else {
                let calibrated = try calibrate(reference, payload: bytes)
                quality.saturatedSamples += calibrated.saturatedCount
                quality.interpolatedSamples += calibrated.interpolatedCount
                for k in calibrated.iof.indices {
                    values[offset + k] = calibrated.flags[k].contains(.missing) ? .nan : calibrated.iof[k]
                    saturated[offset + k] = calibrated.flags[k].contains(.saturated)
                }
            }
        }
        quality.missingFraction = Double(values.count { $0.isNaN }) / Double(values.count)
        quality.saturatedFraction = Double(saturated.count { $0 }) / Double(max(1, values.count { !$0.isNaN }))
        return Rendered(
            raster: ProductRaster(width: samples, height: lines * planned, bands: [values], saturated: saturated, unit: request.kind == .raw ? "DN" : "I/F"),
            quality: quality)
    }
}
