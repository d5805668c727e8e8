-- Issue 9: points_drawn listed which awards paid for each spending, but no page or report ever
-- read it (the auditor's chain shows each spending's event, which names the awards it drew on),
-- and a rebuild wrote four of its rows for every spending. What it held stays in the events.
DROP TABLE points_drawn;
