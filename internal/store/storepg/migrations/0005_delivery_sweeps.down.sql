DROP TABLE delivery_sweeps;
