------------------------------ MODULE GraphsRef ------------------------------
(* Relation, Graphs and UndirectedGraphs: each native operator against its TLA+ definition in
   tlaplus/CommunityModules (typed in below as Ref<Op>) on small inputs. Path(G) is infinite
   when G has a cycle; the references quantify over paths of at most Cardinality(G.node) + 1
   nodes, which decides connectivity (a connecting path has a simple sub-path) and contains
   every simple path. *)
EXTENDS Integers, Sequences, FiniteSets, Graphs
LOCAL U == INSTANCE UndirectedGraphs

RefIsReflexive(R, S) == \A x \in S : R[x, x]
RefIsIrreflexive(R, S) == \A x \in S : ~ R[x, x]
RefIsSymmetric(R, S) == \A x, y \in S : R[x, y] <=> R[y, x]
RefIsAntiSymmetric(R, S) == \A x, y \in S : R[x, y] /\ R[y, x] => x = y
RefIsAsymmetric(R, S) == \A x, y \in S : ~(R[x, y] /\ R[y, x])
RefIsTransitive(R, S) == \A x, y, z \in S : R[x, y] /\ R[y, z] => R[x, z]
RefIsStrictlyPartiallyOrdered(R, S) ==
  RefIsIrreflexive(R, S) /\ RefIsAntiSymmetric(R, S) /\ RefIsTransitive(R, S)
RefIsPartiallyOrdered(R, S) == RefIsReflexive(R, S) /\ RefIsAntiSymmetric(R, S) /\ RefIsTransitive(R, S)
RefIsStrictlyTotallyOrdered(R, S) ==
  RefIsStrictlyPartiallyOrdered(R, S) /\ \A x, y \in S : x # y => R[x, y] \/ R[y, x]
RefIsTotallyOrdered(R, S) == RefIsPartiallyOrdered(R, S) /\ \A x, y \in S : R[x, y] \/ R[y, x]
RefTransitiveClosure(R, S) ==
  LET N == Cardinality(S)
      trcl[n \in Nat] ==
        [x, y \in S |-> IF n = 0 THEN R[x, y]
                        ELSE trcl[n - 1][x, y] \/ \E z \in S : trcl[n - 1][x, z] /\ trcl[n - 1][z, y]]
  IN trcl[N]
RefReflexiveTransitiveClosure(R, S) ==
  LET trcl == RefTransitiveClosure(R, S) IN [x, y \in S |-> x = y \/ trcl[x, y]]
RefIsConnected(R, S) == LET rtrcl == RefReflexiveTransitiveClosure(R, S) IN \A x, y \in S : rtrcl[x, y]
AsRel(op(_, _), S) == [p \in S \X S |-> op(p[1], p[2])]

RefIsDirectedGraph(G) == G = [node |-> G.node, edge |-> G.edge] /\ G.edge \subseteq (G.node \X G.node)
RefDirectedSubgraph(G) ==
  {H \in [node : SUBSET G.node, edge : SUBSET (G.node \X G.node)] :
     RefIsDirectedGraph(H) /\ H.edge \subseteq G.edge}
RefTranspose(G) == [edge |-> {<<e[2], e[1]>> : e \in G.edge}, node |-> G.node]
RefIsUndirectedGraph(G) == RefIsDirectedGraph(G) /\ \A e \in G.edge : <<e[2], e[1]>> \in G.edge
RefUndirectedSubgraph(G) == {H \in RefDirectedSubgraph(G) : RefIsUndirectedGraph(H)}
Walks(G) == UNION {[1..n -> G.node] : n \in 1..Cardinality(G.node) + 1}
RefPath(G) == {p \in Walks(G) : p # <<>> /\ \A i \in 1..(Len(p) - 1) : <<p[i], p[i + 1]>> \in G.edge}
RefSimplePath(G) == {p \in RefPath(G) : \A i, j \in 1..Len(p) : p[i] = p[j] => i = j}
RefAreConnectedIn(m, n, G) == \E p \in RefPath(G) : (p[1] = m) /\ (p[Len(p)] = n)
RefIsStronglyConnected(G) == \A m, n \in G.node : RefAreConnectedIn(m, n, G)
RefConnectionsIn(G) ==
  LET C[N \in SUBSET G.node] ==
        IF N = {} THEN [m, n \in G.node |-> m = n \/ <<m, n>> \in G.edge]
        ELSE LET u == CHOOSE u \in N : TRUE
                 Cu == C[N \ {u}]
             IN [m, n \in G.node |-> Cu[m, n] \/ (Cu[m, u] /\ Cu[u, n])]
  IN C[G.node]
RefIsTreeWithRoot(G, r) ==
  /\ RefIsDirectedGraph(G)
  /\ r \in G.node
  /\ \A e \in G.edge : e[1] # r /\ \A f \in G.edge : (e[1] = f[1]) => (e = f)
  /\ \A n \in G.node : RefAreConnectedIn(n, r, G)
RefGraphUnion(G, H) == [node |-> G.node \union H.node, edge |-> G.edge \union H.edge]
RefIsBipartiteWithPartitions(G, X, Y) ==
  /\ X \cap Y = {}
  /\ G.node \subseteq (X \cup Y)
  /\ \A e \in G.edge : (e[1] \in X /\ e[2] \in Y) \/ (e[2] \in X /\ e[1] \in Y)
RefHasCycle(G) ==
  \/ \E n \in G.node : <<n, n>> \in G.edge
  \/ \E m, n \in G.node : m # n /\ RefConnectionsIn(G)[m, n] /\ RefConnectionsIn(G)[n, m]
RefIsDag(G) == RefIsDirectedGraph(G) /\ ~RefHasCycle(G)
RefSuccessors(G, n) == {m \in G.node : <<n, m>> \in G.edge}
RefAllSuccessors(G, S) == UNION {RefSuccessors(G, n) : n \in S}
RefPredecessors(G, n) == {m \in G.node : <<m, n>> \in G.edge}
RefAllPredecessors(G, S) == UNION {RefPredecessors(G, n) : n \in S}
EdgeRel(G) == [p \in G.node \X G.node |-> <<p[1], p[2]>> \in G.edge]
RefAncestors(G, n) == {m \in G.node : RefTransitiveClosure(EdgeRel(G), G.node)[m, n]}
RefDescendants(G, n) == {m \in G.node : RefTransitiveClosure(EdgeRel(G), G.node)[n, m]}
RefInDegree(G, n) == Cardinality(RefPredecessors(G, n))
RefOutDegree(G, n) == Cardinality(RefSuccessors(G, n))
RefRoots(G) == {n \in G.node : RefPredecessors(G, n) = {}}
RefLeaves(G) == {n \in G.node : RefSuccessors(G, n) = {}}
RefGraphs(S) == [node : {S}, edge : SUBSET (S \X S)]

RefUIsUndirectedGraph(G) ==
  G = [node |-> G.node, edge |-> G.edge] /\ \A e \in G.edge : \E a, b \in G.node : e = {a, b}
RefUIsLoopFreeUndirectedGraph(G) ==
  G = [node |-> G.node, edge |-> G.edge] /\ \A e \in G.edge : \E a, b \in G.node : a # b /\ e = {a, b}
RefUUndirectedSubgraph(G) ==
  {H \in [node : SUBSET G.node, edge : SUBSET G.edge] : RefUIsUndirectedGraph(H)}
RefUPath(G) == {p \in Walks(G) : p # <<>> /\ \A i \in 1..(Len(p) - 1) : {p[i], p[i + 1]} \in G.edge}
RefUSimplePath(G) == {p \in RefUPath(G) : \A i, j \in 1..Len(p) : p[i] = p[j] => i = j}
RefUAreConnectedIn(m, n, G) == \E p \in RefUPath(G) : (p[1] = m) /\ (p[Len(p)] = n)
RefUConnectedComponents(G) ==
  LET IsCC(S) == /\ S # {}
                 /\ \A m, n \in S : \E p \in UNION {[1..k -> S] : k \in 1..Cardinality(S)} :
                       p[1] = m /\ p[Len(p)] = n /\ \A i \in 1..Len(p) - 1 : {p[i], p[i + 1]} \in G.edge
  IN {S \in SUBSET G.node : IsCC(S) /\ \A T \in SUBSET G.node : S \subseteq T /\ S # T => ~IsCC(T)}
RefUIsStronglyConnected(G) == RefUConnectedComponents(G) = {G.node}
RefUUndirectedGraphs(S) == [node : {S}, edge : SUBSET {{s, t} : <<s, t>> \in S \X S}]

N == 1..3
Pool == {<<1, 2>>, <<2, 1>>, <<2, 3>>, <<3, 1>>, <<1, 1>>}
Gs == {[node |-> N, edge |-> E] : E \in SUBSET Pool}
Few == {[node |-> N, edge |-> {}], [node |-> N, edge |-> {<<1, 2>>, <<2, 3>>}],
        [node |-> 1..2, edge |-> {<<1, 2>>, <<2, 3>>}], [node |-> N, edge |-> {<<1, 2>>, <<2, 1>>}]}
UPool == {{1, 2}, {2, 3}, {1}, {3, 4}}
UGs == {[node |-> N, edge |-> E] : E \in SUBSET UPool}
Rels == {EdgeRel(G) : G \in Gs}

\* Relation
ASSUME \A R \in Rels :
         /\ IsReflexive(R, N) = RefIsReflexive(R, N)
         /\ IsIrreflexive(R, N) = RefIsIrreflexive(R, N)
         /\ IsSymmetric(R, N) = RefIsSymmetric(R, N)
         /\ IsAntiSymmetric(R, N) = RefIsAntiSymmetric(R, N)
         /\ IsAsymmetric(R, N) = RefIsAsymmetric(R, N)
         /\ IsTransitive(R, N) = RefIsTransitive(R, N)
         /\ IsStrictlyPartiallyOrdered(R, N) = RefIsStrictlyPartiallyOrdered(R, N)
         /\ IsPartiallyOrdered(R, N) = RefIsPartiallyOrdered(R, N)
         /\ IsStrictlyTotallyOrdered(R, N) = RefIsStrictlyTotallyOrdered(R, N)
         /\ IsTotallyOrdered(R, N) = RefIsTotallyOrdered(R, N)
         /\ TransitiveClosure(R, N) = RefTransitiveClosure(R, N)
         /\ ReflexiveTransitiveClosure(R, N) = RefReflexiveTransitiveClosure(R, N)
         /\ IsConnected(R, N) = RefIsConnected(R, N)
ASSUME \A S \in SUBSET (0..3) : \A op \in {"<", "<=", "=", "#"} :
         LET O(a, b) == CASE op = "<" -> a < b [] op = "<=" -> a <= b [] op = "=" -> a = b [] OTHER -> a # b
         IN /\ IsReflexiveUnder(O, S) = RefIsReflexive(AsRel(O, S), S)
            /\ IsIrreflexiveUnder(O, S) = RefIsIrreflexive(AsRel(O, S), S)
            /\ IsSymmetricUnder(O, S) = RefIsSymmetric(AsRel(O, S), S)
            /\ IsAntiSymmetricUnder(O, S) = RefIsAntiSymmetric(AsRel(O, S), S)
            /\ IsAsymmetricUnder(O, S) = RefIsAsymmetric(AsRel(O, S), S)
            /\ IsTransitiveUnder(O, S) = RefIsTransitive(AsRel(O, S), S)
            /\ IsStrictlyPartiallyOrderedUnder(O, S) = RefIsStrictlyPartiallyOrdered(AsRel(O, S), S)
            /\ IsPartiallyOrderedUnder(O, S) = RefIsPartiallyOrdered(AsRel(O, S), S)
            /\ IsStrictlyTotallyOrderedUnder(O, S) = RefIsStrictlyTotallyOrdered(AsRel(O, S), S)
            /\ IsTotallyOrderedUnder(O, S) = RefIsTotallyOrdered(AsRel(O, S), S)
\* Graphs
ASSUME \A G \in Gs \cup Few :
         /\ IsDirectedGraph(G) = RefIsDirectedGraph(G)
         /\ Transpose(G) = RefTranspose(G)
         /\ IsUndirectedGraph(G) = RefIsUndirectedGraph(G)
         /\ SimplePath(G) = RefSimplePath(G)
         /\ \A m, n \in 0..3 : AreConnectedIn(m, n, G) = RefAreConnectedIn(m, n, G)
         /\ IsStronglyConnected(G) = RefIsStronglyConnected(G)
         /\ ConnectionsIn(G) = RefConnectionsIn(G)
         /\ \A r \in 0..3 : IsTreeWithRoot(G, r) = RefIsTreeWithRoot(G, r)
         /\ HasCycle(G) = RefHasCycle(G)
         /\ IsDag(G) = RefIsDag(G)
         /\ \A n \in N : /\ Successors(G, n) = RefSuccessors(G, n)
                         /\ Predecessors(G, n) = RefPredecessors(G, n)
                         /\ InDegree(G, n) = RefInDegree(G, n)
                         /\ OutDegree(G, n) = RefOutDegree(G, n)
         /\ \A S \in SUBSET N : /\ AllSuccessors(G, S) = RefAllSuccessors(G, S)
                                /\ AllPredecessors(G, S) = RefAllPredecessors(G, S)
         /\ Roots(G) = RefRoots(G)
         /\ Leaves(G) = RefLeaves(G)
         /\ \A X \in SUBSET N : IsBipartiteWithPartitions(G, X, N \ X) = RefIsBipartiteWithPartitions(G, X, N \ X)
ASSUME \A G \in Gs : \A n \in N : Ancestors(G, n) = RefAncestors(G, n) /\ Descendants(G, n) = RefDescendants(G, n)
ASSUME \A G \in Gs : \A p \in Walks(G) : (p \in Path(G)) = (p \in RefPath(G))
ASSUME \A G, H \in Few : GraphUnion(G, H) = RefGraphUnion(G, H)
ASSUME \A G \in Few : DirectedSubgraph(G) = RefDirectedSubgraph(G) /\ UndirectedSubgraph(G) = RefUndirectedSubgraph(G)
ASSUME EmptyGraph = [node |-> {}, edge |-> {}]
ASSUME \A S \in SUBSET (1..2) : Graphs(S) = RefGraphs(S)
ASSUME \A G \in RefGraphs(1..2) : G \in Graphs(1..2)
\* UndirectedGraphs
ASSUME \A G \in UGs \cup {[node |-> N, edge |-> {<<1, 2>>}]} :
         /\ U!IsUndirectedGraph(G) = RefUIsUndirectedGraph(G)
         /\ U!IsLoopFreeUndirectedGraph(G) = RefUIsLoopFreeUndirectedGraph(G)
ASSUME \A G \in UGs :
         /\ U!SimplePath(G) = RefUSimplePath(G)
         /\ \A m, n \in 0..3 : U!AreConnectedIn(m, n, G) = RefUAreConnectedIn(m, n, G)
         /\ U!ConnectedComponents(G) = RefUConnectedComponents(G)
         /\ U!IsStronglyConnected(G) = RefUIsStronglyConnected(G)
         /\ \A p \in Walks(G) : (p \in U!Path(G)) = (p \in RefUPath(G))
ASSUME \A G \in {[node |-> N, edge |-> {{1, 2}, {1}}], [node |-> 1..2, edge |-> {{1, 2}}]} :
         U!UndirectedSubgraph(G) = RefUUndirectedSubgraph(G)
ASSUME \A S \in SUBSET (1..2) : U!UndirectedGraphs(S) = RefUUndirectedGraphs(S)
ASSUME U!ConnectedComponents([node |-> {}, edge |-> {}]) = {} /\ ~U!IsStronglyConnected([node |-> {}, edge |-> {}])
=============================================================================
