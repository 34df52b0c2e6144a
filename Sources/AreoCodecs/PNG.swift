internal import CPNG

/// PNG through libpng's simplified API (errors by return value, no longjmp).
public enum PNG {
    /// Pixel layouts Areo writes.
    public enum Layout: Sendable {
        case gray8, gray16, rgb8

        var format: UInt32 {
            switch self {
            case .gray8: UInt32(PNG_FORMAT_GRAY)
            case .gray16: UInt32(PNG_FORMAT_LINEAR_Y)
            case .rgb8: UInt32(PNG_FORMAT_RGB)
            }
        }
        var bytesPerPixel: Int {
            switch self {
            case .gray8: 1
            case .gray16: 2
            case .rgb8: 3
            }
        }
    }

    /// Encodes pixels (for `gray16`, native-endian UInt16 values as bytes) to PNG.
    public static func encode(_ pixels: [UInt8], width: Int, height: Int, layout: Layout) throws(CodecError) -> [UInt8] {
        guard pixels.count == width * height * layout.bytesPerPixel else {
            throw CodecError(.png, "\(pixels.count) bytes for a \(width)×\(height) image")
        }
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        image.width = UInt32(width)
        image.height = UInt32(height)
        image.format = layout.format
        var size: Int = 0
        let stride = Int32(width * (layout == .rgb8 ? 3 : 1))
        let probe = pixels.withUnsafeBytes { png_image_write_to_memory(&image, nil, &size, 0, $0.baseAddress, stride, nil) }
        guard probe != 0, size > 0 else { throw CodecError(.png, "cannot size the PNG: \(message(image))") }
        var out = [UInt8](repeating: 0, count: size)
        let ok = out.withUnsafeMutableBytes { buffer in
            pixels.withUnsafeBytes { png_image_write_to_memory(&image, buffer.baseAddress, &size, 0, $0.baseAddress, stride, nil) }
        }
        guard ok != 0 else { throw CodecError(.png, "cannot encode: \(message(image))") }
        return Array(out.prefix(size))
    }

    /// Decodes a PNG to the given layout.
    public static func decode(_ data: [UInt8], as layout: Layout) throws(CodecError) -> (width: Int, height: Int, pixels: [UInt8]) {
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        let begun = data.withUnsafeBytes { png_image_begin_read_from_memory(&image, $0.baseAddress, data.count) }
        guard begun != 0 else { throw CodecError(.png, "not a PNG: \(message(image))") }
        image.format = layout.format
        var pixels = [UInt8](repeating: 0, count: Int(image.width) * Int(image.height) * layout.bytesPerPixel)
        let stride = Int32(Int(image.width) * (layout == .rgb8 ? 3 : 1))
        let ok = pixels.withUnsafeMutableBytes { png_image_finish_read(&image, nil, $0.baseAddress, stride, nil) }
        guard ok != 0 else { throw CodecError(.png, "cannot decode: \(message(image))") }
        return (Int(image.width), Int(image.height), pixels)
    }

    private static func message(_ image: png_image) -> String {
        var copy = image.message
        return withUnsafeBytes(of: &copy) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }
}
