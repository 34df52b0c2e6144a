import Crypto
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// `manifest.txt`: every file of a delivery with its size and MD5 (`md5  size  path`, sorted),
/// and `areo export verify`, the last check before an archive accepts a delivery: the bundle
/// against its manifest, and every label against the files it describes.
public enum DeliveryManifest {
    public static let fileName = "manifest.txt"

    /// Writes the manifest of every file under `directory`; returns how many files it lists.
    @discardableResult
    public static func write(for directory: URL) throws -> Int {
        let files = try relativeFiles(in: directory).filter { $0 != fileName }
        var lines: [String] = []
        for path in files {
            let data = try Data(contentsOf: directory.appendingPathComponent(path), options: .mappedIfSafe)
            lines.append("\(md5(data))  \(data.count)  \(path)")
        }
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: directory.appendingPathComponent(fileName), options: .atomic)
        return files.count
    }

    /// Every regular file under `directory`, relative, sorted.
    static func relativeFiles(in directory: URL) throws -> [String] {
        let root = directory.standardizedFileURL.path
        guard let walker = FileManager.default.enumerator(atPath: root) else { return [] }
        var files: [String] = []
        while let path = walker.nextObject() as? String {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: root + "/" + path, isDirectory: &isDirectory), !isDirectory.boolValue { files.append(path) }
        }
        return files.sorted()
    }

    static func md5(_ data: some DataProtocol) -> String { Insecure.MD5.hash(data: data).map { String(format: "%02x", $0) }.joined() }

    /// One thing wrong with a delivery.
    public struct Problem: Sendable, Codable, Equatable, CustomStringConvertible {
        public var path: String
        public var rule: String
        public var description: String { "\(path): \(rule)" }
    }

    /// Checks `directory`: every manifest entry exists with its size and MD5, no file is missing
    /// from the manifest, every label is well-formed XML, and each file a label names exists with
    /// the label's MD5 and at least the bytes its arrays need.
    public static func verify(_ directory: URL) throws -> [Problem] {
        var problems: [Problem] = []
        let manifestURL = directory.appendingPathComponent(fileName)
        guard let manifest = try? String(contentsOf: manifestURL, encoding: .utf8) else {
            return [Problem(path: fileName, rule: "missing or unreadable: not a delivery")]
        }
        var listed = Set<String>()
        for (number, line) in manifest.split(separator: "\n").enumerated() {
            let parts = line.components(separatedBy: "  ")
            guard parts.count == 3, let size = Int(parts[1]) else {
                problems.append(Problem(path: fileName, rule: "line \(number + 1) is not 'md5  size  path'"))
                continue
            }
            let path = parts[2]
            listed.insert(path)
            guard let data = try? Data(contentsOf: directory.appendingPathComponent(path), options: .mappedIfSafe) else {
                problems.append(Problem(path: path, rule: "listed in the manifest but missing"))
                continue
            }
            if data.count != size { problems.append(Problem(path: path, rule: "size \(data.count) bytes, manifest says \(size)")) }
            if md5(data) != parts[0] { problems.append(Problem(path: path, rule: "MD5 \(md5(data)), manifest says \(parts[0])")) }
        }
        for path in try relativeFiles(in: directory) where path != fileName && !listed.contains(path) {
            problems.append(Problem(path: path, rule: "present but not in the manifest"))
        }
        for path in listed.sorted() where path.hasSuffix(".xml") {
            problems += verifyLabel(directory.appendingPathComponent(path), relative: path)
        }
        problems += verifyInventories(directory, labels: listed.sorted().filter { $0.hasSuffix(".xml") })
        return problems
    }

    /// Every product delivered is a member of its collection's inventory, and every collection
    /// delivered is a member of the bundle: an incremental delivery's inventories list the whole
    /// current version of each collection (its new products among them), never the delta alone.
    public static func verifyInventories(_ directory: URL, labels: [String]) -> [Problem] {
        var problems: [Problem] = []
        var inventories: [String: Set<String>] = [:]
        let bundle = (try? String(contentsOf: directory.appendingPathComponent("bundle_areo.xml"), encoding: .utf8)) ?? ""
        for path in labels {
            let parts = path.split(separator: "/")
            guard parts.count >= 2, let collection = parts.first.map(String.init), !parts.last!.hasPrefix("collection_") else { continue }
            let inventoryPath = "\(collection)/collection_\(collection)_inventory.csv"
            if inventories[collection] == nil {
                guard let text = try? String(contentsOf: directory.appendingPathComponent(inventoryPath), encoding: .utf8) else {
                    problems.append(Problem(path: inventoryPath, rule: "missing: collection \(collection) has products but no inventory"))
                    inventories[collection] = []
                    continue
                }
                inventories[collection] = Set(text.split(whereSeparator: \.isNewline).map { $0.hasPrefix("P,") ? String($0.dropFirst(2)) : String($0) })
                if !bundle.contains("urn:esa:psa:areo:\(collection)::") {
                    problems.append(Problem(path: "bundle_areo.xml", rule: "does not list collection \(collection)"))
                }
            }
            guard let data = try? Data(contentsOf: directory.appendingPathComponent(path)) else { continue }
            let reader = LabelReader()
            let parser = XMLParser(data: data)
            parser.delegate = reader
            guard parser.parse(), !reader.lid.isEmpty else { continue }
            let lidvid = "\(reader.lid)::\(reader.vid)"
            if inventories[collection]?.contains(lidvid) == false {
                problems.append(Problem(path: inventoryPath, rule: "does not list \(lidvid), delivered in \(path)"))
            }
        }
        return problems
    }

    /// A label against the files it names.
    static func verifyLabel(_ url: URL, relative: String) -> [Problem] {
        guard let data = try? Data(contentsOf: url) else { return [] }  // reported by the manifest check
        let reader = LabelReader()
        let parser = XMLParser(data: data)
        parser.delegate = reader
        guard parser.parse() else {
            return [Problem(path: relative, rule: "not well-formed XML (line \(parser.lineNumber)): \(parser.parserError.map { "\($0)" } ?? "")")]
        }
        var problems: [Problem] = []
        let folder = url.deletingLastPathComponent()
        for file in reader.files {
            let target = folder.appendingPathComponent(file.name)
            let name = (relative as NSString).deletingLastPathComponent + "/" + file.name
            guard let bytes = try? Data(contentsOf: target, options: .mappedIfSafe) else {
                problems.append(Problem(path: relative, rule: "names \(file.name), which is missing"))
                continue
            }
            if let expected = file.md5, md5(bytes) != expected {
                problems.append(Problem(path: name, rule: "MD5 \(md5(bytes)) differs from its label's \(expected)"))
            }
            if let size = file.size, size != bytes.count {
                problems.append(Problem(path: name, rule: "\(bytes.count) bytes, its label says \(size)"))
            }
            if file.arrayBytes > bytes.count {
                problems.append(Problem(path: name, rule: "\(bytes.count) bytes, its label's arrays need \(file.arrayBytes)"))
            }
        }
        return problems
    }

    /// Collects each `File` (name, MD5, size) and the bytes its arrays need (float32 elements).
    final class LabelReader: NSObject, XMLParserDelegate {
        struct File { var name: String; var md5: String?; var size: Int?; var arrayBytes = 0 }
        var files: [File] = []
        /// The product's logical identifier and version id (its Identification_Area).
        var lid = "", vid = ""
        var text = ""
        var elements: [Int] = []
        var path: [String] = []

        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
            path.append(name)
            text = ""
            if name.hasPrefix("Array_") { elements = [] }
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }

        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            let value = text.trimmingCharacters(in: .whitespacesAndNewlines)
            let parent = path.dropLast().last ?? ""
            switch name {
            case "file_name" where parent == "File" || parent == "Document_File":
                files.append(File(name: value, md5: nil, size: nil))
            case "logical_identifier" where parent == "Identification_Area": lid = value
            case "version_id" where parent == "Identification_Area": vid = value
            case "md5_checksum" where !files.isEmpty: files[files.count - 1].md5 = value
            case "file_size" where !files.isEmpty: files[files.count - 1].size = Int(value)
            case "elements": elements.append(max(0, Int(value) ?? 0))
            default:
                // A label from outside may claim any size: multiply without trapping, saturating.
                if name.hasPrefix("Array_"), !files.isEmpty {
                    let bytes = elements.reduce(4) { total, n in
                        let (product, overflow) = total.multipliedReportingOverflow(by: n)
                        return overflow ? Int.max : product
                    }
                    let (sum, overflow) = files[files.count - 1].arrayBytes.addingReportingOverflow(bytes)
                    files[files.count - 1].arrayBytes = overflow ? Int.max : sum
                }
            }
            path.removeLast()
            text = ""
        }
    }
}
