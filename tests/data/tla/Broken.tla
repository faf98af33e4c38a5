---- MODULE Broken ----
VARIABLE x
Init == x = = 1
====
