---- MODULE NoExtends ----
EXTENDS Naturals
VARIABLE x
Init == x = <<>>
Next == x' = x
Size == Len(x)
====
