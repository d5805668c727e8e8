-- The read models now share one position (projections/composite.py), carried over from the
-- survey projection, which held them all until now.
UPDATE projection_positions SET projection = 'read_models' WHERE projection = 'surveys';
