"""Reports on a run's group statistics, goals and changes: JSON, CSV, XLSX and printable HTML."""
