------------------------------- MODULE BagsExt -------------------------------
(* BagsExt for tlacheck's built-in checker: every operator calls its native
   implementation (tlacheck/builtin/community). Written for tlacheck; the operators, their
   arities and their meaning are those of the module in tlaplus/CommunityModules
   (TLCExt: tlaplus/tlaplus), whose definitions the test suite checks them against. *)

BagAdd(B, x) == CM_BagsExt_BagAdd(B, x)
BagRemove(B, x) == CM_BagsExt_BagRemove(B, x)
BagRemoveAll(B, x) == CM_BagsExt_BagRemoveAll(B, x)
MapThenFoldBag(op(_,_), base, f(_), choose(_), B) == CM_BagsExt_MapThenFoldBag(op, base, f, choose, B)
FoldBag(op(_,_), base, B) == CM_BagsExt_FoldBag(op, base, B)
SumBag(B) == CM_BagsExt_SumBag(B)
ProductBag(B) == CM_BagsExt_ProductBag(B)
==============================================================================
