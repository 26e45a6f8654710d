import Foundation
import JSON
import SQLite

/// The inputs of an import, open: one file or standard input, or an export folder's NDJSON files.
struct ImportInputs {
    let inputs: [ImportDecoder.Input]
    /// Their total size when known (regular files), for the progress line's estimate.
    let totalBytes: Int?
    private let descriptors: [Int32]
    /// For an export folder: each resource's id counter in the database it came from (MANIFEST.json).
    let idCounters: [(TransferResource, Int64)]

    /// One file or standard input, not an export folder.
    var isSingle: Bool { idCounters.isEmpty && inputs.count == 1 }

    /// Closes the files (not standard input).
    func release() { for descriptor in descriptors where descriptor != STDIN_FILENO { close(descriptor) } }

    init(_ options: ImportCommand.Options, maxLineBytes: Int) throws {
        let resource = try options.resource.map { name in
            guard let found = TransferCatalogue.named(name) else {
                throw UsageError("--resource must be one of \(TransferCatalogue.names.joined(separator: ", ")), not '\(name)'")
            }
            return found
        }
        if options.input == "-" {
            let lines = NDJSONLines(descriptor: STDIN_FILENO, maxLineBytes: maxLineBytes)
            (inputs, totalBytes, descriptors, idCounters) = ([.init(file: nil, resource: resource, lines: lines, firstLine: options.fromLine)], nil,
                                                             [STDIN_FILENO], [])
            return
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: options.input, isDirectory: &isDirectory) else {
            throw StartupError("no file or folder \(options.input)")
        }
        guard isDirectory.boolValue else {
            let (descriptor, size) = try Self.openFile(options.input)
            let lines = NDJSONLines(descriptor: descriptor, maxLineBytes: maxLineBytes)
            (inputs, totalBytes, descriptors, idCounters) = ([.init(file: nil, resource: resource, lines: lines, firstLine: options.fromLine)], size,
                                                             [descriptor], [])
            return
        }
        guard options.resource == nil, options.fromLine == 1 else {
            throw UsageError("an export folder names its files' resources and is imported whole: drop --resource and --from-line")
        }
        var found: [ImportDecoder.Input] = [], opened: [Int32] = [], total = 0
        let (files, counters) = try Self.manifest(folder: options.input)
        do {
            for file in files {
                let path = (options.input as NSString).appendingPathComponent(file.name)
                let (hex, bytes) = try SHA256.hexOfFile(path)
                guard hex == file.sha256, bytes == file.bytes else {
                    throw StartupError("\(path) is not the file \(FullExport.manifestName) describes (its size or SHA-256 differs): the export was changed")
                }
                let (descriptor, _) = try Self.openFile(path)
                opened.append(descriptor)
                found.append(.init(file: file.name, resource: file.resource, lines: NDJSONLines(descriptor: descriptor, maxLineBytes: maxLineBytes)))
                total += bytes
            }
        } catch {
            for descriptor in opened { close(descriptor) }
            throw error
        }
        (inputs, totalBytes, descriptors, idCounters) = (found, total, opened, counters)
    }

    private static func openFile(_ path: String) throws -> (Int32, Int?) {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw StartupError("cannot read \(path): \(String(cString: strerror(errno)))") }
        var info = stat()
        let size = fstat(descriptor, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG ? Int(info.st_size) : nil
        return (descriptor, size)
    }

    /// The NDJSON files MANIFEST.json lists, in its order (the order an import needs), and the id counters.
    private static func manifest(folder: String) throws
        -> ([(name: String, resource: TransferResource, bytes: Int, sha256: String)], [(TransferResource, Int64)]) {
        let path = (folder as NSString).appendingPathComponent(FullExport.manifestName)
        guard let data = FileManager.default.contents(atPath: path) else {
            throw StartupError("\(folder) is a folder without \(FullExport.manifestName); import a file, or a folder trade-tracker export wrote")
        }
        guard let manifest = try? JSONParser.parse(Array(data)), manifest["format"]?.stringValue == FullExport.formatName,
              let files = manifest["files"]?.arrayValue else {
            throw StartupError("\(path) is not the manifest of a trade-tracker export")
        }
        guard manifest["format_version"]?.intValue == FullExport.formatVersion else {
            throw StartupError("\(path) is format version \(manifest["format_version"]?.intValue.map(String.init) ?? "?"); this trade-tracker reads \(FullExport.formatVersion)")
        }
        var counters: [(TransferResource, Int64)] = []
        for (name, value) in manifest["id_counters"]?.objectValue ?? [] {
            guard let resource = TransferCatalogue.named(name), resource.hasID, let counter = value.intValue, counter >= 0 else {
                throw StartupError("\(path) has an id counter '\(name)' this trade-tracker cannot use")
            }
            counters.append((resource, Int64(counter)))
        }
        let listed: [(name: String, resource: TransferResource, bytes: Int, sha256: String)] = try files.compactMap { file in
            guard file["format"]?.stringValue == ExportFormat.ndjson.rawValue else { return nil }
            guard let name = file["name"]?.stringValue, !name.contains("/"), let resourceName = file["resource"]?.stringValue,
                  let bytes = file["bytes"]?.intValue, let sha256 = file["sha256"]?.stringValue else {
                throw StartupError("\(path) lists a file without name, resource, bytes and sha256")
            }
            guard let resource = TransferCatalogue.named(resourceName) else {
                throw StartupError("\(path) lists \(name) as '\(resourceName)', which this trade-tracker does not know")
            }
            return (name, resource, bytes, sha256)
        }
        return (listed, counters)
    }
}
