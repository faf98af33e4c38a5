--------------------------- MODULE DyadicRationals ---------------------------
(* DyadicRationals for tlacheck's built-in checker: every operator calls its native
   implementation (tlacheck/builtin/community). Written for tlacheck; the operators, their
   arities and their meaning are those of the module in tlaplus/CommunityModules
   (TLCExt: tlaplus/tlaplus), whose definitions the test suite checks them against. *)

IsDyadicRational(r) == CM_DyadicRationals_IsDyadicRational(r)
Zero == CM_DyadicRationals_Zero
One == CM_DyadicRationals_One
Add(p, q) == CM_DyadicRationals_Add(p, q)
Half(p) == CM_DyadicRationals_Half(p)
PrettyPrint(p) == CM_DyadicRationals_PrettyPrint(p)
==============================================================================
