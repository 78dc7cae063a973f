-- Reference data for scripts/run_local.sh: the services and regions customers use and
-- incidents name. Customers are loaded through the directory: `forewarn customers import
-- scripts/sample_customers.csv`. Safe to rerun (ON CONFLICT DO NOTHING).

BEGIN;

INSERT INTO services (code, name_en, name_ar) VALUES
  ('electricity', 'Electricity', 'الكهرباء'),
  ('water',       'Water',       'المياه'),
  ('internet',    'Internet',    'الإنترنت')
ON CONFLICT DO NOTHING;

INSERT INTO regions (code, name_en, name_ar) VALUES
  ('riyadh', 'Riyadh', 'الرياض'),
  ('jeddah', 'Jeddah', 'جدة'),
  ('dammam', 'Dammam', 'الدمام'),
  ('mecca',  'Mecca',  'مكة المكرمة')
ON CONFLICT DO NOTHING;

COMMIT;
