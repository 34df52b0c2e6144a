/// A filter band of the detector (ICD §4).
public enum Band: UInt8, Sendable, Codable, CaseIterable, CustomStringConvertible {
    case pan = 0, red = 1, nir = 2, blu = 3

    /// The ICD's name: PAN, RED, NIR, BLU.
    public var name: String {
        switch self {
        case .pan: "PAN"
        case .red: "RED"
        case .nir: "NIR"
        case .blu: "BLU"
        }
    }

    public init?(name: String) {
        guard let band = Self.allCases.first(where: { $0.name == name.uppercased() }) else { return nil }
        self = band
    }

    public var description: String { name }
}

/// How a fragment's payload is encoded (ICD §4).
public enum Compression: UInt8, Sendable, Codable, CaseIterable, CustomStringConvertible {
    case none = 0, ccsds121 = 1, jpeg = 2

    /// The plan's spelling: none, ccsds121, jpeg.
    public var name: String {
        switch self {
        case .none: "none"
        case .ccsds121: "ccsds121"
        case .jpeg: "jpeg"
        }
    }

    public init?(name: String) {
        guard let c = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = c
    }

    public var description: String { name }
}

/// The 64-byte header in front of every fragment's payload (ICD §4).
public struct FragmentHeader: Sendable, Hashable, Codable {
    public static let size = 64

    public var observationID: UInt32
    public var frameletIndex: UInt16
    public var bandCode: UInt8
    public var compressionCode: UInt8
    public var exposureStart: SpacecraftClock
    public var exposureDurationMicroseconds: UInt32
    public var windowFirstRow: UInt16
    public var windowRows: UInt16
    public var windowFirstColumn: UInt16
    public var windowColumns: UInt16
    public var bitsPerSample: UInt8
    public var binning: UInt8
    /// 0.01° units, 0–35999.
    public var rotationAngleCentidegrees: UInt16
    public var frameletsPlannedPerBand: UInt16
    public var payloadLength: UInt32
    public var payloadCRC: UInt32
    /// 0.01 °C.
    public var detectorTemperatureCentidegrees: Int16

    public var band: Band? { Band(rawValue: bandCode) }
    public var compression: Compression? { Compression(rawValue: compressionCode) }
    /// Image lines: window rows / binning.
    public var lines: Int { binning == 0 ? 0 : Int(windowRows) / Int(binning) }
    /// Samples per line: window columns / binning.
    public var samples: Int { binning == 0 ? 0 : Int(windowColumns) / Int(binning) }

    public init(
        observationID: UInt32, frameletIndex: UInt16, band: Band, compression: Compression,
        exposureStart: SpacecraftClock, exposureDurationMicroseconds: UInt32,
        windowFirstRow: UInt16, windowRows: UInt16, windowFirstColumn: UInt16, windowColumns: UInt16,
        bitsPerSample: UInt8, binning: UInt8, rotationAngleCentidegrees: UInt16, frameletsPlannedPerBand: UInt16,
        payloadLength: UInt32, payloadCRC: UInt32, detectorTemperatureCentidegrees: Int16
    ) {
        self.observationID = observationID
        self.frameletIndex = frameletIndex
        self.bandCode = band.rawValue
        self.compressionCode = compression.rawValue
        self.exposureStart = exposureStart
        self.exposureDurationMicroseconds = exposureDurationMicroseconds
        self.windowFirstRow = windowFirstRow
        self.windowRows = windowRows
        self.windowFirstColumn = windowFirstColumn
        self.windowColumns = windowColumns
        self.bitsPerSample = bitsPerSample
        self.binning = binning
        self.rotationAngleCentidegrees = rotationAngleCentidegrees
        self.frameletsPlannedPerBand = frameletsPlannedPerBand
        self.payloadLength = payloadLength
        self.payloadCRC = payloadCRC
        self.detectorTemperatureCentidegrees = detectorTemperatureCentidegrees
    }

    /// Reads a header from the first 64 bytes of `bytes`; `nil` if fewer.
    public init?<Bytes: RandomAccessCollection>(bytes: Bytes) where Bytes.Element == UInt8, Bytes.Index == Int {
        guard bytes.count >= Self.size else { return nil }
        let r = BigEndianReader(bytes)
        observationID = r.u32(0)
        frameletIndex = r.u16(4)
        bandCode = r.u8(6)
        compressionCode = r.u8(7)
        exposureStart = SpacecraftClock(coarse: r.u32(8), fine: r.u16(12))
        exposureDurationMicroseconds = r.u32(14)
        windowFirstRow = r.u16(18)
        windowRows = r.u16(20)
        windowFirstColumn = r.u16(22)
        windowColumns = r.u16(24)
        bitsPerSample = r.u8(26)
        binning = r.u8(27)
        rotationAngleCentidegrees = r.u16(28)
        frameletsPlannedPerBand = r.u16(30)
        payloadLength = r.u32(32)
        payloadCRC = r.u32(36)
        detectorTemperatureCentidegrees = r.i16(40)
    }

    /// The rules of ICD §4 the header breaks on its own (empty when valid).
    public var violations: [String] {
        var rules: [String] = []
        if band == nil { rules.append("ICD §4: band \(bandCode) is not 0–3") }
        if compression == nil { rules.append("ICD §4: compression \(compressionCode) is not 0–2") }
        if !(8...16).contains(bitsPerSample) { rules.append("ICD §4: bits per sample \(bitsPerSample) not in 8–16") }
        if ![1, 2, 4].contains(binning) { rules.append("ICD §4: binning \(binning) is not 1, 2 or 4") }
        if rotationAngleCentidegrees > 35_999 { rules.append("ICD §4: rotation angle \(rotationAngleCentidegrees) > 35999") }
        if compression == Compression.none, Int(payloadLength) != lines * samples * 2 {
            rules.append("ICD §4: uncompressed payload length \(payloadLength) ≠ lines × samples × 2 = \(lines * samples * 2)")
        }
        return rules
    }

    /// The 64 bytes (reserved bytes zero).
    public var bytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(Self.size)
        out.appendBigEndian(observationID)
        out.appendBigEndian(frameletIndex)
        out.append(bandCode)
        out.append(compressionCode)
        out.appendBigEndian(exposureStart.coarse)
        out.appendBigEndian(exposureStart.fine)
        out.appendBigEndian(exposureDurationMicroseconds)
        out.appendBigEndian(windowFirstRow)
        out.appendBigEndian(windowRows)
        out.appendBigEndian(windowFirstColumn)
        out.appendBigEndian(windowColumns)
        out.append(bitsPerSample)
        out.append(binning)
        out.appendBigEndian(rotationAngleCentidegrees)
        out.appendBigEndian(frameletsPlannedPerBand)
        out.appendBigEndian(payloadLength)
        out.appendBigEndian(payloadCRC)
        out.appendBigEndian(detectorTemperatureCentidegrees)
        out.append(contentsOf: [UInt8](repeating: 0, count: 22))
        return out
    }
}
