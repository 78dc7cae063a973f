-- Sample data for scripts/run_local.sh (schema: services/pg/migrations/*.sql).
-- Deterministic and safe to rerun (ON CONFLICT DO NOTHING).
--
-- 200 customers, ids 1..200:
--   locale      ar for ids with id % 5 in (0, 1, 2) (60%), en otherwise
--   time zone   Asia/Riyadh, except id % 20 = 7 Asia/Dubai, 11 Europe/London,
--               13 America/New_York
--   phone       +9665XXXXXXXX (unique); NULL when id % 25 = 0
--   email       customerN@example.com; NULL when id % 40 = 3
--   channels    the same in every category (channels_unplanned, _maintenance,
--               _banking: bit 1 SMS, bit 2 email): no SMS when id % 9 = 4,
--               no email when id % 7 = 2
-- Who uses what (customer_services):
--   electricity/riyadh  1..80          water/riyadh     even ids in 1..80
--   internet/riyadh     1..80, id % 10 = 1
--   electricity/jeddah  81..130        water/jeddah     odd ids in 81..130
--   electricity/dammam  131..170       internet/dammam  131..200, id % 3 = 0
--   electricity/mecca   171..200       water/mecca      171..200, id % 4 = 0

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

INSERT INTO customers
  (id, name, locale, time_zone, phone, email, channels_unplanned, channels_maintenance, channels_banking,
   created_at)
SELECT
  i,
  CASE WHEN i % 5 IN (0, 1, 2)
    THEN (ARRAY['محمد', 'أحمد', 'عبدالله', 'فاطمة', 'نورة', 'خالد', 'سارة', 'عبدالرحمن',
                'ريم', 'فيصل', 'هند', 'سلطان', 'لطيفة', 'تركي', 'منيرة', 'ياسر'])[1 + i % 16]
         || ' ' ||
         (ARRAY['العتيبي', 'القحطاني', 'الغامدي', 'الشهري', 'الزهراني', 'الدوسري',
                'الحربي', 'المطيري', 'السبيعي', 'العنزي', 'الشمري'])[1 + i % 11]
    ELSE (ARRAY['James', 'Sarah', 'Omar', 'Emily', 'Daniel', 'Aisha', 'Michael', 'Priya',
                'David', 'Laura', 'Ahmed', 'Hannah', 'Ravi'])[1 + i % 13]
         || ' ' ||
         (ARRAY['Smith', 'Khan', 'Patel', 'Johnson', 'Haddad', 'Brown', 'Williams',
                'Nguyen', 'Garcia', 'Taylor', 'Farouk'])[1 + i % 11]
  END,
  CASE WHEN i % 5 IN (0, 1, 2) THEN 'ar' ELSE 'en' END,
  CASE i % 20
    WHEN 7 THEN 'Asia/Dubai'
    WHEN 11 THEN 'Europe/London'
    WHEN 13 THEN 'America/New_York'
    ELSE 'Asia/Riyadh'
  END,
  -- Saudi mobile prefixes 50/53/55/56/59; i * 7919 < 10^7 keeps the numbers unique.
  CASE WHEN i % 25 = 0 THEN NULL
    ELSE '+9665' || (ARRAY['0', '3', '5', '6', '9'])[1 + i % 5]
                 || lpad((i * 7919)::text, 7, '0')
  END,
  CASE WHEN i % 40 = 3 THEN NULL ELSE 'customer' || i || '@example.com' END,
  ch, ch, ch,
  timestamptz '2024-01-01 00:00:00+03' + i * interval '1 hour'
FROM generate_series(1, 200) AS g(i),
  LATERAL (SELECT (i % 9 <> 4)::int + 2 * (i % 7 <> 2)::int) AS b(ch)
ON CONFLICT DO NOTHING;
-- Ids given here: the directory's next one comes after them.
SELECT setval('customers_id_seq', greatest((SELECT max(id) FROM customers), 1)) \g /dev/null

INSERT INTO customer_services (service_code, region_code, customer_id)
SELECT r.service, r.region, g.i
FROM (VALUES
  -- service, region, first id, last id, modulus, remainder (id % modulus = remainder)
  ('electricity', 'riyadh',   1,  80,  1, 0),
  ('water',       'riyadh',   1,  80,  2, 0),
  ('internet',    'riyadh',   1,  80, 10, 1),
  ('electricity', 'jeddah',  81, 130,  1, 0),
  ('water',       'jeddah',  81, 130,  2, 1),
  ('electricity', 'dammam', 131, 170,  1, 0),
  ('internet',    'dammam', 131, 200,  3, 0),
  ('electricity', 'mecca',  171, 200,  1, 0),
  ('water',       'mecca',  171, 200,  4, 0)
) AS r(service, region, lo, hi, m, k)
CROSS JOIN LATERAL generate_series(r.lo, r.hi) AS g(i)
WHERE g.i % r.m = r.k
ON CONFLICT DO NOTHING;

COMMIT;
