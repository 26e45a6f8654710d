import Foundation
import HTTPServer
import JSON

/// `POST /v1/admin/backup` (admin token): a consistent copy of the live database in the backup folder, answered with
/// its path, size and SHA-256 once it is complete on disk.
struct AdminRoutes {
    let databasePath: String
    let backupDirectory: String
    let clock: TimeSource

    func register(on router: inout Router) {
        router.add("POST", "/v1/admin/backup") { [self] request in
            if !request.body.isEmpty {
                let members = try RequestBody.object(request)
                if let (name, _) = members.first {
                    throw APIError.validation([.init(pointer: "/" + JSONPointer.escape(name), message: "is not an option of a backup (it takes none)")])
                }
            }
            let now = clock.nowMilliseconds()
            let stamp = Timestamp.format(epochMilliseconds: now).replacingOccurrences(of: ":", with: "").replacingOccurrences(of: ".", with: "-")
            let path = (backupDirectory as NSString).appendingPathComponent("trade-tracker-\(stamp).sqlite")
            let backup: DatabaseMaintenance.Backup
            do {
                backup = try DatabaseMaintenance.backup(database: databasePath, to: path)
            } catch {
                throw APIError.storageUnavailable("the backup could not be written: \(error)")
            }
            var json = JSONWriter(capacity: 256)
            json.beginObject()
            json.member("path", backup.path)
            json.member("bytes", backup.bytes)
            json.member("sha256", backup.sha256)
            json.member("created_at", Timestamp.format(epochMilliseconds: now))
            json.endObject()
            return HTTPResponse.json(json.bytes, status: 201)
        }
    }
}
