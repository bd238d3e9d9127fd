"""Monev: the monitoring (pemantauan) of how an office's SOPs are carried out (Permenpan RB 35/2012).

* ``recording`` — the figures the engine stores on a task when it is done (working time taken,
  the standard's time, within the standard or not), once, where the work happens;
* ``figures`` — the queries of the monitoring pages over those stored figures;
* ``scope`` — who may see which office's (or only their own) figures, and the filters;
* ``charts`` and ``export`` — the SVG charts (pygal) and the CSV/XLSX files.
"""
