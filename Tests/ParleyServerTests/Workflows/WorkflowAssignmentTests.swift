import Foundation
import ParleyCore
import ParleyServer
import ParleyStore
import ParleyTestSupport
import Testing

/// Assign steps: round robin spreads evenly and skips agents who are offline when asked to;
/// least-open picks the agent with the fewest open conversations.
@Suite("Workflow assignment")
struct WorkflowAssignmentTests {
    static func assignWorkflow(_ api: APIHarness, mode: String, users: [Int64], onlineOnly: Bool = false) async throws -> Int64 {
        try await api.workflow(["name": "Route", "trigger": "conversation_opened", "oncePerContact": false, "enabled": true,
                                "steps": [["id": "route", "type": "assign", "mode": mode, "userIds": users, "onlineOnly": onlineOnly]]])
    }

    @Test(arguments: TestBackend.all)
    func roundRobinSpreadsThirtyConversationsOverThreeAgents(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            let agents = [try await api.user(.agent).id, try await api.user(.agent).id, try await api.user(.agent).id]
            let workflow = try await Self.assignWorkflow(api, mode: "round_robin", users: agents)
            var contacts: [Int64] = []
            for index in 0..<30 {
                let contact = try await api.newContact("Guest \(index)")
                try await api.openConversation(contact)
                contacts.append(contact)
            }
            try await api.settleWorkflows()
            var load: [Int64: Int] = [:]
            for contact in contacts { load[try await api.assignee(contact) ?? 0, default: 0] += 1 }
            #expect(load == [agents[0]: 10, agents[1]: 10, agents[2]: 10])
            let runs = try await api.runs(workflow)
            #expect(runs.count == 30)
            #expect(runs.allSatisfy { $0["status"] as? String == "completed" })
        }
    }

    @Test(arguments: TestBackend.all)
    func leastOpenPicksTheLeastLoadedAgent(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            let agents = [try await api.user(.agent).id, try await api.user(.agent).id, try await api.user(.agent).id]
            // Open conversations: 3, 1 and 2.
            for (agent, count) in zip(agents, [3, 1, 2]) {
                for index in 0..<count {
                    let contact = try await api.newContact("Busy \(agent)-\(index)")
                    try await api.openConversation(contact)
                    let assigned = try await api.send(.put, "/api/v1/contacts/\(contact)/conversation/assignee", json: ["userId": agent])
                    #expect(assigned.status == .ok, "\(assigned.text)")
                }
            }
            _ = try await Self.assignWorkflow(api, mode: "least_open", users: agents)
            let first = try await api.newContact("New one")
            try await api.openConversation(first)
            try await api.settleWorkflows()
            #expect(try await api.assignee(first) == agents[1])
            // Now 3, 2, 2: the tie goes to the earlier agent of the list.
            let second = try await api.newContact("New two")
            try await api.openConversation(second)
            try await api.settleWorkflows()
            #expect(try await api.assignee(second) == agents[1])
            // 3, 3, 2.
            let third = try await api.newContact("New three")
            try await api.openConversation(third)
            try await api.settleWorkflows()
            #expect(try await api.assignee(third) == agents[2])
        }
    }

    @Test(arguments: TestBackend.all)
    func onlineOnlyRoundRobinSkipsOfflineAgents(backend: TestBackend) async throws {
        try await LiveHarness.run(backend) { (live: LiveHarness) async throws in
            let api = live.api
            let agents = [try await api.user(.agent), try await api.user(.agent), try await api.user(.agent)]
            // The first and the third agent have the inbox open; the second does not.
            let streams = [try await live.stream(token: agents[0].token), try await live.stream(token: agents[2].token)]
            for stream in streams { _ = try await stream.next("ready") }
            let expected: Set<Int64> = [agents[0].id, agents[2].id]
            var online: Set<Int64> = []
            // Presence travels through the realtime bus: wait for it (up to 20 s on a busy machine).
            for _ in 0..<800 where !expected.isSubset(of: online) {
                online = Set((try await api.send(.get, "/api/v1/presence").json["online"] as? [[String: Any]] ?? [])
                    .compactMap { ($0["id"] as? NSNumber)?.int64Value })
                if !expected.isSubset(of: online) { try await Task.sleep(for: .milliseconds(25)) }
            }
            #expect(expected.isSubset(of: online))
            _ = try await Self.assignWorkflow(api, mode: "round_robin", users: agents.map(\.id), onlineOnly: true)
            var load: [Int64: Int] = [:]
            for index in 0..<6 {
                let contact = try await api.newContact("Guest \(index)")
                try await api.openConversation(contact)
                try await api.settleWorkflows()
                load[try await api.assignee(contact) ?? 0, default: 0] += 1
            }
            #expect(load == [agents[0].id: 3, agents[2].id: 3])
            for stream in streams { await stream.close() }
        }
    }
}
