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
    }

    /// Renders `request` from the observation's `framelets`, loading payloads as needed.
    public func render(
        _ request: ProductRequest, framelets: [FrameletReference],
        payload: (FrameletReference) async throws -> [UInt8]
    ) async throws -> Rendered {
        switch request.kind {
        case .raw, .calibrated:
            return try await stacked(request, framelets: framelets, payload: payload)
        case .projected, .composite:
            // Every band of the observation on one grid, so band products overlay exactly.
            let grid = try grid(for: framelets, scale: request.scale)
            var mosaics: [BandMosaic] = []
            var quality = ProductQuality()
            for band in request.bands {
                let (mosaic, measured) = try await mosaic(band: band, framelets: framelets, grid: grid, payload: payload)
                guard measured.missingFraction < 1 else { throw ProcessingError("no \(band.name) framelet of observation \(request.observationID) could be projected") }
                mosaics.append(mosaic)
                quality.frameletMisregistration[band.name] = measured.frameletMisregistration
                quality.saturatedSamples += measured.saturatedSamples
                quality.interpolatedSamples += measured.interpolatedSamples
            }
            var bands = mosaics.map(\.iof)
            if bands.count > 1 {  // colour only where every band saw the ground
                for k in bands[0].indices where bands.contains(where: { $0[k].isNaN }) {
                    for b in bands.indices { bands[b][k] = .nan }
                }
            }
            if request.bands.count == 2 {  // PAN-BLU: a synthetic green between them
                bands.insert(zip(bands[0], bands[1]).map { ($0 + $1) / 2 }, at: 1)
            }
            var saturated = mosaics[0].saturated
            for mosaic in mosaics.dropFirst() { for k in saturated.indices where mosaic.saturated[k] { saturated[k] = true } }
            if mosaics.count > 1 {
                let columns = 0..<grid.width, rows = 0..<grid.height
                for (band, mosaic) in zip(request.bands, mosaics).dropFirst() {
                    if let shift = Registration.offset(
                        reference: { i, j in Self.pixel(mosaics[0], i, j) }, moving: { i, j in Self.pixel(mosaic, i, j) }, columns: columns, rows: rows,
                        normalize: true) {
                        quality.bandMisregistration[band.name] = (shift.dx * shift.dx + shift.dy * shift.dy).squareRoot()
                    }
                }
            }
            let covered = bands[0].indices.filter { k in bands.allSatisfy { !$0[k].isNaN } }.count
            quality.missingFraction = 1 - Double(covered) / Double(max(1, grid.width * grid.height))
            quality.saturatedFraction = covered == 0 ? 0 : Double(saturated.count { $0 }) / Double(covered)
            return Rendered(
                raster: ProductRaster(width: grid.width, height: grid.height, bands: bands, saturated: saturated, grid: grid, unit: "I/F"),
                quality: quality)
        }
    }

    static func pixel(_ mosaic: BandMosaic, _ i: Int, _ j: Int) -> Float {
        guard i >= 0, j >= 0, i < mosaic.grid.width, j < mosaic.grid.height else { return .nan }
        return mosaic.iof[j * mosaic.grid.width + i]
    }

    /// Raw or calibrated: the band's framelets stacked top to bottom in exposure order (a
    /// framelet that did not arrive leaves its lines missing).
    private func stacked(
        _ request: ProductRequest, framelets: [FrameletReference], payload: (FrameletReference) async throws -> [UInt8]
    ) async throws -> Rendered {
        let band = request.bands[0]
        let mine = framelets.filter { $0.header.band == band }.sorted { $0.header.frameletIndex < $1.header.frameletIndex }
        guard let first = mine.first else { throw ProcessingError("observation \(request.observationID) has no \(band.name) framelet") }
        let lines = first.header.lines, samples = first.header.samples
        let planned = max(Int(first.header.frameletsPlannedPerBand), Int(mine.last!.header.frameletIndex) + 1)
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
