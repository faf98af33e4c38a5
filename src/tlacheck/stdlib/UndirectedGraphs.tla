-------------------------- MODULE UndirectedGraphs ---------------------------
(* UndirectedGraphs for tlacheck's built-in checker: every operator calls its native
   implementation (tlacheck/builtin/community). Written for tlacheck; the operators, their
   arities and their meaning are those of the module in tlaplus/CommunityModules
   (TLCExt: tlaplus/tlaplus), whose definitions the test suite checks them against. *)

IsUndirectedGraph(G) == CM_UndirectedGraphs_IsUndirectedGraph(G)
IsLoopFreeUndirectedGraph(G) == CM_UndirectedGraphs_IsLoopFreeUndirectedGraph(G)
UndirectedSubgraph(G) == CM_UndirectedGraphs_UndirectedSubgraph(G)
Path(G) == CM_UndirectedGraphs_Path(G)
SimplePath(G) == CM_UndirectedGraphs_SimplePath(G)
AreConnectedIn(m, n, G) == CM_UndirectedGraphs_AreConnectedIn(m, n, G)
ConnectedComponents(G) == CM_UndirectedGraphs_ConnectedComponents(G)
IsStronglyConnected(G) == CM_UndirectedGraphs_IsStronglyConnected(G)
UndirectedGraphs(S) == CM_UndirectedGraphs_UndirectedGraphs(S)
==============================================================================
