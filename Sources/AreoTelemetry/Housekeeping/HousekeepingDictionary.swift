import Foundation

/// The housekeeping channel definitions (`hk-dictionary.json`, ICD §5).
public struct HousekeepingDictionary: Sendable, Codable, Equatable {
    public struct Channel: Sendable, Codable, Equatable {
        public var id: UInt16
        public var name: String
        public var unit: String
        /// `engineering = Σ coefficients[i]·raw^i`.
        public var coefficients: [Double]
        public var yellow: [Double]
        public var red: [Double]

        public init(id: UInt16, name: String, unit: String, coefficients: [Double], yellow: [Double], red: [Double]) {
            self.id = id
            self.name = name
            self.unit = unit
            self.coefficients = coefficients
            self.yellow = yellow
            self.red = red
        }

        public func engineering(raw: UInt16) -> Double {
            var value = 0.0, power = 1.0
            for c in coefficients {
                value += c * power
                power *= Double(raw)
            }
            return value
        }

        /// The limit level a value breaks, if any: red outside red, yellow outside yellow.
        public func limitLevel(of value: Double) -> LimitLevel? {
            if red.count == 2, value < red[0] || value > red[1] { return .red }
            if yellow.count == 2, value < yellow[0] || value > yellow[1] { return .yellow }
            return nil
        }
    }

    public enum LimitLevel: String, Sendable, Codable {
        case yellow, red
    }

    public var dictionaryID: String
    public var channels: [Channel]

    public init(dictionaryID: String, channels: [Channel]) {
        self.dictionaryID = dictionaryID
        self.channels = channels
    }

    enum CodingKeys: String, CodingKey {
        case dictionaryID = "dictionary_id"
        case channels
    }

    public func channel(id: UInt16) -> Channel? { channels.first { $0.id == id } }

    public static func decode(_ data: Data) throws -> HousekeepingDictionary {
        try JSONDecoder().decode(HousekeepingDictionary.self, from: data)
    }

    /// Parses and validates `hk-dictionary.json`: every channel once, with 1–16 finite
    /// coefficients and finite `[low, high]` yellow and red limits.
    /// - Throws: ``TelemetryError`` naming the file and the first rule broken.
    public static func parse(_ data: Data, file: String) throws(TelemetryError) -> HousekeepingDictionary {
        let dictionary: HousekeepingDictionary
        do {
            dictionary = try decode(data)
        } catch let error as DecodingError {
            throw TelemetryError(.housekeeping, "ICD §5: \(ObservationPlan.describe(error))", file: file)
        } catch {
            throw TelemetryError(.housekeeping, "ICD §5: not a housekeeping dictionary (\(error))", file: file)
        }
        var seen = Set<UInt16>()
        for channel in dictionary.channels {
            guard seen.insert(channel.id).inserted else {
                throw TelemetryError(.housekeeping, "ICD §5: channel \(channel.id) is defined twice", file: file)
            }
            func isRange(_ limits: [Double]) -> Bool { limits.count == 2 && limits.allSatisfy(\.isFinite) && limits[0] <= limits[1] }
            guard (1...16).contains(channel.coefficients.count), channel.coefficients.allSatisfy(\.isFinite), isRange(channel.yellow), isRange(channel.red) else {
                throw TelemetryError(.housekeeping, "ICD §5: channel \(channel.name) needs 1–16 finite coefficients and finite [low, high] limits", file: file)
            }
        }
        return dictionary
    }
}

/// One housekeeping packet's samples (ICD §5): uint16 N, then N × (channel id, raw value).
public struct HousekeepingSample: Sendable, Equatable {
    public var channelID: UInt16
    public var raw: UInt16

    public init(channelID: UInt16, raw: UInt16) {
        self.channelID = channelID
        self.raw = raw
    }

    /// Decodes the user data of an APID 1201 packet.
    /// - Throws: a message naming the rule when the count does not match the data.
    public static func decode(userData: ArraySlice<UInt8>) throws(TelemetryError) -> [HousekeepingSample] {
        let bytes = Array(userData)
        guard bytes.count >= 2 else { throw TelemetryError(.housekeeping, "ICD §5: housekeeping user data shorter than its count") }
        let r = BigEndianReader(bytes)
        let n = Int(r.u16(0))
        guard bytes.count == 2 + 4 * n else {
            throw TelemetryError(.housekeeping, "ICD §5: housekeeping count \(n) needs \(2 + 4 * n) octets, user data has \(bytes.count)")
        }
        return (0..<n).map { HousekeepingSample(channelID: r.u16(2 + 4 * $0), raw: r.u16(4 + 4 * $0)) }
    }
}
