"""The default slope cone: its overall angle and the benches it spans.

Kept apart from `orepit.valuation.precedence` so that the command line can show these defaults
without loading the domain (``orepit pit --grid`` starts without pandas).
"""

#: Overall slope angle (degrees) when none is given.
SLOPE_DEGREES = 45.0
#: Benches the slope cone spans when none is given.  A cone over more benches follows the slope
#: angle more closely, at the cost of more arcs: on the 62,500-block demo deposit (40 m cubes, 45
#: degrees) the ultimate pit's value is 2.6 % above that of a 12-bench cone with 4 benches and 0.5 %
#: above it with 8 (1.7 times the arcs of 4); 8 is also the depth of MineLib's kd precedences.
SLOPE_BENCHES = 8
