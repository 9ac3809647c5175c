import Foundation
import ParleyCore
import ParleyServer
import ParleyStore
import ParleyTestSupport
import Synchronization
import Testing

/// The engine's guarantees: an event handled once with two engines at work, waits that survive
/// a restart, and a workflow's own changes not starting it again.
@Suite("Workflow engine")
struct WorkflowEngineTests {
    @Test(arguments: TestBackend.all)
    func eachEventIsHandledOnceWithTwoEnginesRunning(backend: TestBackend) async throws {
        // PostgreSQL: two connection pools, as two instances have; SQLite has one file and one writer.
        try await Self.twoInstances(backend) { first, second in
            try await LiveHarness.run(backend, database: first) { (live: LiveHarness) async throws in
                let api = live.api
                let workflow = try await api.workflow(["name": "Count", "trigger": "conversation_opened", "oncePerContact": false, "enabled": true,
                                                       "steps": [["id": "tag", "type": "add_tag", "tag": "greeted"]]])
                // A second instance: its own services and connections on the same database.
                let other = Services(configuration: ServerConfiguration(host: "127.0.0.1", port: 0, bcryptCost: 4), database: second,
                                     clock: api.clock, logger: .quiet)
                let engines = [WorkflowEngine(services: api.services), WorkflowEngine(services: other)]
                var contacts: [Int64] = []
                for index in 0..<20 {
                    let contact = try await api.newContact("Guest \(index)")
                    try await api.openConversation(contact)
                    contacts.append(contact)
                    if index % 5 == 4 {
                        // Both engines read the same new events at the same time.
                        async let a: Void = api.settleWorkflows(engines[0])
                        async let b: Void = api.settleWorkflows(engines[1])
                        _ = try await (a, b)
                    }
                }
                let runs = try await api.runs(workflow)
                #expect(runs.count == 20)
                #expect(Set(runs.compactMap { ($0["eventId"] as? NSNumber)?.int64Value }).count == 20)
                #expect(Set(runs.compactMap { ($0["contactId"] as? NSNumber)?.int64Value }) == Set(contacts))
                // Each run logged its one step once.
                #expect(runs.allSatisfy { ($0["steps"] as? [[String: Any]])?.count == 1 })
            }
        }
    }

    static func twoInstances(_ backend: TestBackend, _ body: @escaping @Sendable (any Database, any Database) async throws -> Void) async throws {
        if backend == .postgres {
            try await backend.withSharedDatabase { first, second in try await body(first, second) }
        } else {
            try await backend.withDatabase { database in try await body(database, database) }
        }
    }

    @Test(arguments: TestBackend.all)
    func aWaitFiresAfterTheServerRestarts(backend: TestBackend) async throws {
        try await backend.withDatabase { database in
            let started = Mutex<(workflow: Int64, contact: Int64, at: Date)?>(nil)
            try await LiveHarness.run(backend, database: database) { (live: LiveHarness) async throws in
                let api = live.api
                let contact = try await api.newContact("Patient")
                let workflow = try await api.workflow(["name": "Later", "trigger": "manual", "oncePerContact": false, "enabled": true, "steps": [
                    ["id": "pause", "type": "wait", "seconds": 2], ["id": "tag", "type": "add_tag", "tag": "followed-up"],
                ]])
                #expect(try await api.send(.post, "/api/v1/workflows/\(workflow)/runs", json: ["contactId": contact]).status == .created)
                try await api.settleWorkflows()
                let run = try #require(try await api.runs(workflow).first)
                #expect(run["status"] as? String == "waiting")
                #expect(run["currentStep"] as? String == "pause")
                started.withLock { $0 = (workflow, contact, api.clock.now()) }
            }
            let (workflow, contact, at) = try #require(started.withLock { $0 })
            // A new server on the same database, its clock where the first one stopped.
            try await LiveHarness.run(backend, database: database) { (live: LiveHarness) async throws in
                let api = live.api
                api.clock.set(at.addingTimeInterval(1.9))
                try await api.settleWorkflows()
                #expect(try await api.contactJSON(contact)["tags"] as? [String] == [])
                api.clock.set(at.addingTimeInterval(2))
                try await api.settleWorkflows()
                #expect(try await api.contactJSON(contact)["tags"] as? [String] == ["followed-up"])
                let run = try #require(try await api.runs(workflow).first)
                #expect(run["status"] as? String == "completed")
                #expect((run["steps"] as? [[String: Any]])?.compactMap { $0["outcome"] as? String } == ["waiting", "succeeded", "succeeded"])
            }
        }
    }

    @Test(arguments: TestBackend.all)
    func aWorkflowThatTagsOnTagUpdatesDoesNotLoop(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            // Each run changes the tags twice: without the guard every change would start it again.
            let echo = try await api.workflow(["name": "Echo", "trigger": "contact_tag_updated", "oncePerContact": false, "enabled": true, "steps": [
                ["id": "add", "type": "add_tag", "tag": "echo"], ["id": "remove", "type": "remove_tag", "tag": "echo"],
            ]])
            let contact = try await api.newContact("Loopy")
            #expect(try await api.send(.patch, "/api/v1/contacts/\(contact)", json: ["tags": ["ping"]]).status == .ok)
            try await api.settleWorkflows()
            let echoes = try await api.runs(echo)
            #expect(echoes.count == 1)
            #expect((echoes.first?["steps"] as? [[String: Any]])?.count == 2)
            #expect(try await api.contactJSON(contact)["tags"] as? [String] == ["ping"])
            #expect(try await api.send(.patch, "/api/v1/workflows/\(echo)", json: ["enabled": false]).status == .ok)

            // Two workflows that undo each other stop after a few links of the chain.
            let adder = try await api.workflow(["name": "Add", "trigger": "contact_tag_updated", "oncePerContact": false, "enabled": true,
                                                "triggerTags": ["ping"], "steps": [["id": "pong", "type": "add_tag", "tag": "pong"],
                                                                                   ["id": "unping", "type": "remove_tag", "tag": "ping"]]])
            let remover = try await api.workflow(["name": "Back", "trigger": "contact_tag_updated", "oncePerContact": false, "enabled": true,
                                                  "triggerTags": ["pong"], "steps": [["id": "unpong", "type": "remove_tag", "tag": "pong"],
                                                                                     ["id": "ping", "type": "add_tag", "tag": "ping"]]])
            #expect(try await api.send(.patch, "/api/v1/contacts/\(contact)", json: ["tags": []]).status == .ok)
            #expect(try await api.send(.patch, "/api/v1/contacts/\(contact)", json: ["tags": ["ping"]]).status == .ok)
            try await api.settleWorkflows()
            let links = try await api.runs(adder).count + api.runs(remover).count
            #expect(links == 5)
        }
    }
}
