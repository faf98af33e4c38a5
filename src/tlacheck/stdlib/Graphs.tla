------------------------------- MODULE Graphs --------------------------------
(* Graphs for tlacheck's built-in checker: every operator calls its native
   implementation (tlacheck/builtin/community). Written for tlacheck; the operators, their
   arities and their meaning are those of the module in tlaplus/CommunityModules
   (TLCExt: tlaplus/tlaplus), whose definitions the test suite checks them against. *)
EXTENDS Naturals, Sequences, FiniteSets, SequencesExt, Relation

IsDirectedGraph(G) == CM_Graphs_IsDirectedGraph(G)
DirectedSubgraph(G) == CM_Graphs_DirectedSubgraph(G)
Transpose(G) == CM_Graphs_Transpose(G)
IsUndirectedGraph(G) == CM_Graphs_IsUndirectedGraph(G)
UndirectedSubgraph(G) == CM_Graphs_UndirectedSubgraph(G)
Path(G) == CM_Graphs_Path(G)
SimplePath(G) == CM_Graphs_SimplePath(G)
AreConnectedIn(m, n, G) == CM_Graphs_AreConnectedIn(m, n, G)
IsStronglyConnected(G) == CM_Graphs_IsStronglyConnected(G)
ConnectionsIn(G) == CM_Graphs_ConnectionsIn(G)
IsTreeWithRoot(G, r) == CM_Graphs_IsTreeWithRoot(G, r)
GraphUnion(G, H) == CM_Graphs_GraphUnion(G, H)
IsBipartiteWithPartitions(G, U, V) == CM_Graphs_IsBipartiteWithPartitions(G, U, V)
HasCycle(G) == CM_Graphs_HasCycle(G)
IsDag(G) == CM_Graphs_IsDag(G)
Successors(G, n) == CM_Graphs_Successors(G, n)
AllSuccessors(G, S) == CM_Graphs_AllSuccessors(G, S)
Predecessors(G, n) == CM_Graphs_Predecessors(G, n)
AllPredecessors(G, S) == CM_Graphs_AllPredecessors(G, S)
Ancestors(G, n) == CM_Graphs_Ancestors(G, n)
Descendants(G, n) == CM_Graphs_Descendants(G, n)
InDegree(G, n) == CM_Graphs_InDegree(G, n)
OutDegree(G, n) == CM_Graphs_OutDegree(G, n)
Roots(G) == CM_Graphs_Roots(G)
Leaves(G) == CM_Graphs_Leaves(G)
EmptyGraph == CM_Graphs_EmptyGraph
Graphs(S) == CM_Graphs_Graphs(S)
==============================================================================
