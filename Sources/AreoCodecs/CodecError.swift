/// A payload that could not be decoded or an image that could not be encoded.
public struct CodecError: Error, Sendable, CustomStringConvertible, Equatable {
    public enum Codec: String, Sendable { case ccsds121, jpeg, png, raw, tiff }

    public let codec: Codec
    public let message: String

    public init(_ codec: Codec, _ message: String) {
        self.codec = codec
        self.message = message
    }

    public var description: String { "\(codec.rawValue): \(message)" }
}
